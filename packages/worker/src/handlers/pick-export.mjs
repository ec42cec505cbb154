// Plain JavaScript so the isolated runner can use it in a child started without a TypeScript loader.

/**
 * Which export of a handler module is the handler: the named one, else `default`, else `handler`.
 * @param {Record<string, unknown>} namespace
 * @param {string} path
 * @param {string | undefined} name
 */
export function pickExport(namespace, path, name) {
  // A CommonJS module's exports arrive as `default`; look there too.
  const cjs = namespace.default;
  const lookup = (key) =>
    key in namespace ? namespace[key] : cjs !== null && typeof cjs === 'object' ? cjs[key] : undefined;
  if (name !== undefined) {
    const value = lookup(name);
    if (value === undefined) throw new Error(`handler module ${path} has no export named "${name}"`);
    if (typeof value !== 'function')
      throw new Error(`export "${name}" of handler module ${path} is a ${typeof value}, not a function`);
    return value;
  }
  for (const key of ['default', 'handler']) {
    const value = lookup(key);
    if (typeof value === 'function') return value;
  }
  throw new Error(
    `handler module ${path} exports no handler function: export one as default or as "handler", or name it with export:`,
  );
}
