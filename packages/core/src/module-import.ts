import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The extensions Node will not import by itself (Node 20 has no type stripping). */
const TYPESCRIPT_FILE = /\.[cm]?ts$/;

let typescriptLoader: Promise<void> | undefined;

/**
 * Registers tsx's ESM loader for the rest of the process: once, and only when a TypeScript module
 * is named, so a run whose modules are all JavaScript never loads tsx. It must come before the
 * first import of that module: Node caches a failed import, so there is no trying first.
 */
function loadTypeScript(): Promise<void> {
  typescriptLoader ??= import('tsx/esm/api').then(({ register }) => {
    register();
  });
  return typescriptLoader;
}

/**
 * Imports a user's module (an actor, a handler, a predicate) by a path relative to baseDir,
 * `.ts`, `.mts` and `.cts` through tsx; a module that will not load becomes the caller's typed
 * error, with the reason.
 */
export async function importUserModule(
  module: string,
  baseDir: string,
  what: string,
  fail: (message: string, cause: unknown) => Error,
): Promise<{ path: string; namespace: Record<string, unknown> }> {
  const path = resolve(baseDir, module);
  try {
    if (TYPESCRIPT_FILE.test(path)) await loadTypeScript();
    return { path, namespace: (await import(pathToFileURL(path).href)) as Record<string, unknown> };
  } catch (error) {
    throw fail(`cannot load ${what} module ${path}: ${(error as Error)?.message ?? String(error)}`, error);
  }
}
