// Plain JavaScript, so a process started without a TypeScript loader can import it: the worker's
// isolated task runner (a child process per task) imports user modules with it too.
import { pathToFileURL } from 'node:url';

/** The extensions Node 20 will not import by itself: it has no type stripping. */
const TYPESCRIPT_FILE = /\.[cm]?ts$/;

/** @type {Promise<void> | undefined} */
let typescriptLoader;

/**
 * Registers tsx for the rest of the process: once, and only when a TypeScript module is named, so
 * a run whose modules are all JavaScript never loads it. Both of its loaders: a `.ts` file outside
 * a `"type": "module"` package is CommonJS to Node, and its ESM loader hands those to require.
 * Registered before the module's first import: Node caches a failed import, so no trying first.
 */
function loadTypeScript() {
  typescriptLoader ??= Promise.all([import('tsx/esm/api'), import('tsx/cjs/api')]).then(([esm, cjs]) => {
    esm.register();
    cjs.register();
  });
  return typescriptLoader;
}

/**
 * Imports a module by its absolute path, `.ts`, `.mts` and `.cts` through tsx. A module compiled
 * to CommonJS from ES syntax (by tsx in a CommonJS package, by tsc) arrives as
 * `{ default: module.exports }`; its exports, marked `__esModule`, are returned in its place.
 * @param {string} path
 * @returns {Promise<Record<string, unknown>>}
 */
export async function importModuleFile(path) {
  if (TYPESCRIPT_FILE.test(path)) await loadTypeScript();
  const namespace = await import(pathToFileURL(path).href);
  const exports = namespace.default;
  return exports !== null && typeof exports === 'object' && exports.__esModule === true ? exports : namespace;
}
