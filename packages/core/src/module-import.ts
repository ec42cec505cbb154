import { resolve } from 'node:path';
import { importModuleFile } from './import-module.mjs';

/** Node's message for an import it cannot resolve, as its ESM and CommonJS loaders word it. */
const MISSING_SWARM_PACKAGE = /^Cannot find (?:package|module) '(@swarm\/[a-z-]+)'/;

/**
 * Imports a user's module (an actor, a handler, a predicate) by a path relative to baseDir,
 * TypeScript through tsx; a module that will not load becomes the caller's typed error, with the
 * reason.
 */
export async function importUserModule(
  module: string,
  baseDir: string,
  what: string,
  fail: (message: string, cause: unknown) => Error,
): Promise<{ path: string; namespace: Record<string, unknown> }> {
  const path = resolve(baseDir, module);
  try {
    return { path, namespace: await importModuleFile(path) };
  } catch (error) {
    const reason = (error as Error)?.message ?? String(error);
    throw fail(`cannot load ${what} module ${path}: ${withAdvice(reason)}`, error);
  }
}

/**
 * An installed `swarm` carries its own copy of the @swarm packages, which a user's module outside
 * this repository cannot import: it needs none of them at run time (issue #9).
 */
function withAdvice(reason: string): string {
  const missing = MISSING_SWARM_PACKAGE.exec(reason)?.[1];
  if (!missing) return reason;
  // The first line: CommonJS adds its require stack, which names only the module again.
  return (
    `${reason.split('\n')[0]}: outside the swarm repository ${missing} is not installed. The actor and ` +
    'handler contracts are structural: import only types from it (`import type`) and zod from your ' +
    'own dependencies (docs/ACTORS.md, "Outside this repository")'
  );
}
