/** Which export of a handler module is the handler: the named one, else `default`, else `handler`. */
export function pickExport(
  namespace: Record<string, unknown>,
  path: string,
  name: string | undefined,
): (...args: never[]) => unknown;
