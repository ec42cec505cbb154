// Bundles the CLI into dist/: swarm.mjs parses arguments, then loads one self-contained bundle
// for the verb it runs (dist/<verb>.cjs), so `swarm worker --once` loads neither the topology
// loader nor the shard. One bundle per verb rather than shared chunks: esbuild's code splitting
// kept zod and yaml in a chunk every verb imported. Verbs are CommonJS so that swarm.mjs can load
// them with V8's code cache (load-verb.mjs). Every dependency is bundled except tsx, which loads
// only for a TypeScript actor or handler, so the published package depends on tsx alone.
//
// Several builds may run at once in one working tree (test runs, benchmarks), while CLI processes
// read dist/: each file is replaced by a rename, and only when its content changed.
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const dist = here('./dist');
const codeCache = join(dist, 'code-cache');
// rxjs's exports map sends Node to its CommonJS build, which cannot be tree-shaken; use its ES build.
const rxjsDir = dirname(createRequire(here('../core/package.json')).resolve('rxjs/package.json'));
const verbs = (await readdir(here('./src/commands')))
  .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && f !== 'index.ts')
  .map((f) => basename(f, '.ts'));

/** In swarm.mjs, `import('./post')` in commands/index.ts becomes load-verb.mjs's loadVerb('post'). */
const verbsLoadedAtRunTime = {
  name: 'verbs-loaded-at-run-time',
  setup(b) {
    b.onResolve({ filter: /^\.\/[a-z-]+$/ }, (args) =>
      args.importer.endsWith(join('commands', 'index.ts')) && verbs.includes(args.path.slice(2))
        ? { path: args.path.slice(2), namespace: 'verb' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'verb' }, (args) => ({
      contents: `module.exports = require('./load-verb.mjs').loadVerb(${JSON.stringify(args.path)});`,
      resolveDir: here('.'),
      loader: 'js',
    }));
  },
};

/**
 * Startup work the bundled dependencies do that a CLI process does not need, taken out at build
 * time; each patch checks its anchor, so a dependency that changed is bundled as it is, with a warning.
 */
const startupPatches = {
  name: 'startup-patches',
  setup(b) {
    // ioredis gives Commander.prototype two methods per Redis command, one by one. V8 keeps a class
    // prototype in fast mode, where each new property copies the ones before: 600 of them cost
    // 10-15 ms per process. In dictionary mode (after a delete) they cost 0.3 ms, and commands
    // called through the prototype measured no slower.
    b.onLoad({ filter: /[\\/]ioredis[\\/]built[\\/]utils[\\/]Commander\.js$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      const start = 'commands.push("sentinel");';
      const end = 'Commander.prototype.send_command = Commander.prototype.call;';
      if (!source.includes(start) || !source.includes(end)) {
        console.warn(`build.mjs: ${args.path} has changed; bundled without its startup patch`);
        return undefined;
      }
      const contents = source
        .replace(
          start,
          `${start} Commander.prototype.__swarmA = 0; Commander.prototype.__swarmB = 0; delete Commander.prototype.__swarmA;`,
        )
        .replace(end, `${end} delete Commander.prototype.__swarmB;`);
      return { contents, loader: 'js' };
    });
    // debug (through ioredis) tries require('supports-color') in a try block; it is no dependency
    // of ours, so the lookup only costs a walk of node_modules folders at every start.
    b.onResolve({ filter: /^supports-color$/ }, () => ({ path: 'supports-color', namespace: 'absent' }));
    b.onLoad({ filter: /.*/, namespace: 'absent' }, () => ({
      contents: 'module.exports = {};',
      loader: 'js',
    }));
  },
};

/**
 * The llm handler (the AI SDK and its providers: 4 MB) is a bundle of its own, dist/llm-handler.cjs,
 * required when a pool first needs it: `swarm worker --once` with a module handler never reads it.
 */
const llmHandlerApart = {
  name: 'llm-handler-apart',
  setup(b) {
    b.onResolve({ filter: /^\.\/llm\/llm-handler$/ }, (args) =>
      args.importer.endsWith('resolve.ts') ? { path: './llm-handler.cjs', external: true } : undefined,
    );
  },
};

/**
 * OpenTelemetry's SDK is a bundle of its own, dist/tracing.cjs, loaded by swarm.mjs only when the
 * OTEL_* variables ask for traces (packages/cli/src/tracing.ts): no other run reads it. Required,
 * not imported: Node imports a CommonJS file into ESM by first scanning all of it for its export
 * names (cjs-module-lexer), which cost 100 ms of CPU per traced process for this bundle's 800 kB.
 */
const tracingApart = {
  name: 'tracing-apart',
  setup(b) {
    b.onResolve({ filter: /^@swarm\/observe\/tracing$/ }, (args) =>
      args.importer.endsWith(join('cli', 'src', 'tracing.ts'))
        ? { path: 'tracing', namespace: 'tracing-bundle' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'tracing-bundle' }, () => ({
      contents: "module.exports = require('./tracing.cjs');",
      loader: 'js',
    }));
    b.onResolve({ filter: /^\.\/tracing\.cjs$/ }, (args) =>
      args.namespace === 'tracing-bundle' ? { path: './tracing.cjs', external: true } : undefined,
    );
  },
};

const common = {
  write: false,
  bundle: true,
  platform: 'node',
  target: 'node20',
  alias: { rxjs: join(rxjsDir, 'dist/esm/index.js') },
  external: ['tsx', 'tsx/*'],
  logLevel: 'warning',
};
const [entries, verbBundles] = await Promise.all([
  build({
    ...common,
    entryPoints: {
      swarm: here('./src/main.ts'),
      // Forked per task by isolated.ts, found next to the verb bundle that forks it.
      'isolated-runner': here('../worker/src/handlers/isolated-runner.mjs'),
    },
    outdir: dist,
    format: 'esm',
    outExtension: { '.js': '.mjs' },
    plugins: [verbsLoadedAtRunTime, tracingApart],
    // Bundled CommonJS dependencies (pino) still call require for Node's built-ins.
    banner: {
      js: "import { createRequire as __swarmRequire } from 'node:module'; const require = __swarmRequire(import.meta.url);",
    },
  }),
  build({
    ...common,
    entryPoints: {
      ...Object.fromEntries(verbs.map((v) => [v, here(`./src/commands/${v}.ts`)])),
      'llm-handler': here('../worker/src/llm/llm-handler.ts'),
      tracing: here('../observe/src/tracing/index.ts'),
    },
    outdir: dist,
    format: 'cjs',
    outExtension: { '.js': '.cjs' },
    // Files read next to the code (the Lua scripts, the isolated runner) are found from import.meta.url.
    plugins: [startupPatches, llmHandlerApart],
    define: { 'import.meta.url': '__swarmModuleUrl' },
    // A cached script cannot import() (see load-verb.mjs): any left become require().
    supported: { 'dynamic-import': false },
    banner: {
      js: "'use strict';\nconst __swarmModuleUrl = require('node:url').pathToFileURL(__filename).href;",
    },
  }),
]);

/** Writes a file only if its content changed, through a rename, so a reader never sees half of it. */
async function replaceFile(path, content) {
  const current = await readFile(path).catch(() => undefined);
  if (current?.equals(content)) return;
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}-${Math.random().toString(36).slice(2)}.tmp`;
  await writeFile(temporary, content, { mode: basename(path) === 'swarm.mjs' ? 0o755 : 0o644 });
  await rename(temporary, path);
}

/** Every file under dir, as paths relative to it. */
async function filesUnder(dir) {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name)));
}

const outputs = new Map();
for (const file of [...entries.outputFiles, ...verbBundles.outputFiles]) {
  const content = Buffer.from(file.contents);
  // The bin: run directly, so it names its interpreter.
  outputs.set(
    file.path,
    basename(file.path) === 'swarm.mjs'
      ? Buffer.concat([Buffer.from('#!/usr/bin/env node\n'), content])
      : content,
  );
}
// Files read at run time next to the code that reads them: the Lua scripts.
const scripts = here('../core/src/bus/redis/scripts');
for (const file of await filesUnder(scripts))
  outputs.set(join(dist, 'scripts', file), await readFile(join(scripts, file)));
// And the dashboard's page (plain HTML, CSS and a script), read by @swarm/observe's page-assets.ts.
const dashboardPage = here('../observe/src/dashboard/dashboard-page');
for (const file of await filesUnder(dashboardPage))
  outputs.set(join(dist, 'dashboard-page', file), await readFile(join(dashboardPage, file)));

for (const [path, content] of outputs) await replaceFile(path, content);
// A verb or script that no longer exists leaves no file behind, nor does a bundle's old code cache
// (load-verb.mjs names each cache <verb>-<digest of its bundle>.bin).
const cachesToKeep = new Set(
  verbBundles.outputFiles.map(
    (f) =>
      `${basename(f.path, '.cjs')}-${createHash('sha1').update(f.contents).digest('hex').slice(0, 16)}.bin`,
  ),
);
for (const file of await filesUnder(dist)) {
  const path = join(dist, file);
  const stale = dirname(path) === codeCache ? !cachesToKeep.has(basename(path)) : !outputs.has(path);
  if (stale && !path.endsWith('.tmp')) await rm(path, { force: true });
}
console.log(`built ${dist}/swarm.mjs and ${verbs.length} verbs`);
