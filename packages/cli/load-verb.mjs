// Bundled into dist/swarm.mjs by build.mjs, which routes commands/index.ts's `import('./<verb>')`
// here: loads dist/<verb>.cjs with V8's code cache. Compiling a verb's bundle (ioredis, pino, zod…)
// is a third of what `swarm worker --once` spends beyond `node -e 0`, and Node 20 keeps no code
// cache of its own (module.enableCompileCache came in Node 22). The first successful run of a verb
// stores the cache, with the code compiled by the end of the run; later runs start from it.
import { accessSync, constants, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';

const DIST = dirname(fileURLToPath(import.meta.url));
/** Next to the bundles, and only there: a cache is code, so it must be as private as they are. */
const CODE_CACHE_DIR = join(DIST, 'code-cache');

/**
 * A script compiled from a code cache cannot `import()` in Node 20 (its host options are lost), so
 * the bundles leave it to this module; core's import-module.mjs looks here first. Specifiers
 * resolve from dist/, where the bundles are.
 */
globalThis[Symbol.for('swarm.import')] = (specifier) => import(specifier);

/** The verbs this process loaded, and those of them that had no cache to start from. */
const loaded = new Set();
const uncached = new Map();
/**
 * A cache holds the code compiled by the end of the run that stored it, so only a run that went the
 * whole way stores one: a single verb that exited 0, not asked for help. `swarm --help` loads every
 * verb and runs none; a usage error, or `worker --once` finding no task, stops early. A cache
 * without the code of the task's path costs `worker --once` 25 ms more than a full one.
 */
const askedForHelp = process.argv.some((arg) => arg === '--help' || arg === '-h');
process.once('exit', (code) => {
  if (code !== 0 || loaded.size !== 1 || askedForHelp || uncached.size === 0) return;
  // A read-only install (sudo npm i -g, an image layer) would pay for createCachedData on every
  // run and never keep it: look before making one.
  if (!writable(DIST)) return;
  for (const [file, script] of uncached) storeCache(script, file);
});

function writable(dir) {
  try {
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** The exports of dist/<verb>.cjs. */
export function loadVerb(verb) {
  const file = join(DIST, `${verb}.cjs`);
  const requireBundle = createRequire(file);
  loaded.add(verb);
  if (process.env.SWARM_CODE_CACHE === '0') return requireBundle(file);
  const source = readFileSync(file);
  // Named by content: V8 checks only a cache's length and flags against the source. Not imported
  // at the top: swarm.mjs would load node:crypto for `swarm --version` too.
  const { createHash } = process.getBuiltinModule('node:crypto');
  const digest = createHash('sha1').update(source).digest('hex').slice(0, 16);
  const cacheFile = join(CODE_CACHE_DIR, `${verb}-${digest}.bin`);
  const cachedData = readIfPresent(cacheFile);
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: file,
    cachedData,
  });
  if (cachedData === undefined || script.cachedDataRejected) uncached.set(cacheFile, script);
  const module = { exports: {} };
  script.runInThisContext()(module.exports, requireBundle, module, file, DIST);
  return module.exports;
}

function readIfPresent(file) {
  try {
    return readFileSync(file);
  } catch {
    return undefined;
  }
}

/**
 * Best effort: an installed package the user may not write to just runs without a cache. Through
 * a rename, so a process starting meanwhile reads a whole cache or none.
 */
function storeCache(script, file) {
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(CODE_CACHE_DIR, { recursive: true });
    writeFileSync(temporary, script.createCachedData());
    renameSync(temporary, file);
  } catch {
    rmSync(temporary, { force: true });
  }
}
