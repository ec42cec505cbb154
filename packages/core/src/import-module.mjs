// Plain JavaScript, so a process started without a TypeScript loader can import it: the worker's
// isolated task runner (a child process per task) imports user modules with it too.
import { pathToFileURL } from 'node:url';

/** The extensions Node 20 will not import by itself: it has no type stripping. */
const TYPESCRIPT_FILE = /\.[cm]?ts$/;

/** @type {Promise<void> | undefined} */
let typescriptLoader;

/**
 * Where swarm's bundled CLI puts an `import()` of its own (packages/cli/load-verb.mjs): it runs
 * each verb from V8's code cache, and Node 20 loses a cached script's own `import()`.
 */
const BUNDLE_IMPORT = Symbol.for('swarm.import');

/** @param {string} specifier */
function importDynamically(specifier) {
  const bundleImport = /** @type {((s: string) => Promise<any>) | undefined} */ (globalThis[BUNDLE_IMPORT]);
  return bundleImport ? bundleImport(specifier) : import(specifier);
}

/**
 * Registers tsx for the rest of the process: once, and only when a TypeScript module is named, so
 * a run whose modules are all JavaScript never loads it. Both of its loaders: a `.ts` file outside
 * a `"type": "module"` package is CommonJS to Node, and its ESM loader hands those to require.
 * Registered before the module's first import: Node caches a failed import, so no trying first.
 */
function loadTypeScript() {
  typescriptLoader ??= Promise.all([importDynamically('tsx/esm/api'), importDynamically('tsx/cjs/api')]).then(
    ([esm, cjs]) => {
      esm.register();
      cjs.register();
    },
  );
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
  const namespace = await importDynamically(pathToFileURL(path).href);
  const exports = namespace.default;
  return exports !== null && typeof exports === 'object' && exports.__esModule === true ? exports : namespace;
}
