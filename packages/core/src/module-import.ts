import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * Imports a user's module (an actor, a predicate) by a path relative to baseDir; a module that
 * will not load becomes the caller's typed error, with the reason.
 */
export async function importUserModule(
  module: string,
  baseDir: string,
  what: string,
  fail: (message: string, cause: unknown) => Error,
): Promise<{ path: string; namespace: Record<string, unknown> }> {
  const path = resolve(baseDir, module);
  try {
    return { path, namespace: (await import(pathToFileURL(path).href)) as Record<string, unknown> };
  } catch (error) {
    throw fail(`cannot load ${what} module ${path}: ${(error as Error)?.message ?? String(error)}`, error);
  }
}
