// Bundles the CLI into dist/: swarm.mjs parses arguments, then loads one self-contained bundle
// for the verb it runs (dist/<verb>.mjs), so `swarm worker --once` loads neither the topology
// loader nor the shard. One bundle per verb rather than shared chunks: esbuild's code splitting
// kept zod and yaml in a chunk every verb imported.
import { cp, readdir, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
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

await rm(dist, { recursive: true, force: true });
await build({
  entryPoints: {
    swarm: here('./src/main.ts'),
    ...Object.fromEntries(verbs.map((v) => [v, here(`./src/commands/${v}.ts`)])),
  },
  outdir: dist,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outExtension: { '.js': '.mjs' },
  plugins: [verbsExternal],
  alias: { rxjs: join(rxjsDir, 'dist/esm/index.js') },
  // Bundled CommonJS dependencies (ioredis) still call require for Node's built-ins.
  banner: {
    js: "import { createRequire as __swarmRequire } from 'node:module'; const require = __swarmRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
// Files read at run time next to the code that reads them: Lua scripts, the isolated-task runner.
await cp(here('../core/src/bus/redis/scripts'), `${dist}/scripts`, { recursive: true });
for (const file of ['isolated-runner.mjs', 'pick-export.mjs'])
  await cp(here(`../worker/src/handlers/${file}`), `${dist}/${file}`);
console.log(`built ${dist}/swarm.mjs and ${verbs.length} verbs`);
