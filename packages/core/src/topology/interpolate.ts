/**
 * `${NAME}` and `${NAME:-default}` in a string, from the environment. `$${` is a literal `${`.
 * An unset variable without a default is an error: a topology should not run with a hole in it.
 */
export function interpolate(value: string, env: NodeJS.ProcessEnv): { value: string } | { error: string } {
  let error: string | undefined;
  const out = value.replace(/\$?\$\{([^}:]*)(?::-([^}]*))?\}/g, (match, name: string, fallback?: string) => {
    if (match.startsWith('$$')) return match.slice(1);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      error ??= `"${match}" is not a valid variable reference: use \${NAME} or \${NAME:-default}`;
      return match;
    }
    const found = env[name];
    if (found !== undefined && found !== '') return found;
    if (fallback !== undefined) return fallback;
    error ??= `environment variable ${name} is not set (give a default with \${${name}:-value})`;
    return match;
  });
  return error ? { error } : { value: out };
}
