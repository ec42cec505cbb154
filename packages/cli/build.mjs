// Bundles the CLI into dist/: swarm.mjs parses arguments, then loads one self-contained bundle
// for the verb it runs (dist/<verb>.mjs), so `swarm worker --once` loads neither the topology
// loader nor the shard. One bundle per verb rather than shared chunks: esbuild's code splitting
// kept zod and yaml in a chunk every verb imported. Every dependency is bundled except tsx, which
// loads only for a TypeScript actor or handler, so the published package depends on tsx alone.
//
// Several builds may run at once in one working tree (test runs, benchmarks), while CLI processes
// read dist/: each file is replaced by a rename, and only when its content changed.
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const dist = here('./dist');
// rxjs's exports map sends Node to its CommonJS build, which cannot be tree-shaken; use its ES build.
const rxjsDir = dirname(createRequire(here('../core/package.json')).resolve('rxjs/package.json'));
const verbs = (await readdir(here('./src/commands')))
  .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && f !== 'index.ts')
  .map((f) => basename(f, '.ts'));

/** In the bundle, `import('./post')` in commands/index.ts loads dist/post.mjs at run time. */
const verbsExternal = {
  name: 'verbs-external',
  setup(b) {
    b.onResolve({ filter: /^\.\/[a-z-]+$/ }, (args) =>
      args.importer.endsWith(join('commands', 'index.ts')) && verbs.includes(args.path.slice(2))
        ? { path: `${args.path}.mjs`, external: true }
        : undefined,
    );
  },
};

const result = await build({
  entryPoints: {
    swarm: here('./src/main.ts'),
    ...Object.fromEntries(verbs.map((v) => [v, here(`./src/commands/${v}.ts`)])),
    // Forked per task by isolated.ts, found next to the verb bundle that forks it.
    'isolated-runner': here('../worker/src/handlers/isolated-runner.mjs'),
  },
  outdir: dist,
  write: false,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outExtension: { '.js': '.mjs' },
  plugins: [verbsExternal],
  alias: { rxjs: join(rxjsDir, 'dist/esm/index.js') },
  external: ['tsx', 'tsx/*'],
  // Bundled CommonJS dependencies (ioredis) still call require for Node's built-ins.
  banner: {
    js: "import { createRequire as __swarmRequire } from 'node:module'; const require = __swarmRequire(import.meta.url);",
  },
  logLevel: 'warning',
});

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
for (const file of result.outputFiles) {
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

for (const [path, content] of outputs) await replaceFile(path, content);
// A verb or script that no longer exists leaves no file behind.
for (const file of await filesUnder(dist)) {
  const path = join(dist, file);
  if (!outputs.has(path) && !path.endsWith('.tmp')) await rm(path, { force: true });
}
console.log(`built ${dist}/swarm.mjs and ${verbs.length} verbs`);
