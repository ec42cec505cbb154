/**
 * pnpm bench <name> [--json] [--redis <url>] [--<flag> <value> ...]
 * Prints a table (or JSON lines with --json) and writes packages/bench/results/<name>-<date>.json.
 */
import { redactUrl } from '@swarm/core';
import type { BenchContext, Benchmark } from './benchmark';
import { killAllChildren } from './children';
import { describeMachine } from './machine';
import { answersPing, type PrivateRedis, startPrivateRedis } from './redis-server';
import { benchmarks } from './registry';
import { jsonLines, renderTable, writeResultsFile } from './report';

const USAGE_EXIT = 2;

function usage(problem?: string): never {
  const lines = problem ? [problem, ''] : [];
  lines.push('usage: pnpm bench <name> [--json] [--redis <url>] [--<flag> <value> ...]', '', 'benchmarks:');
  for (const b of benchmarks) {
    lines.push(`  ${b.name.padEnd(16)}${b.summary}`);
    for (const [flag, spec] of Object.entries(b.flags))
      lines.push(`  ${''.padEnd(16)}  --${flag} (default ${spec.default}): ${spec.help}`);
  }
  lines.push('', 'common flags:', '  --json          one JSON object per line instead of a table');
  lines.push('  --redis <url>   use this Redis instead of starting a private redis-server');
  process.stderr.write(`${lines.join('\n')}\n`);
  process.exit(USAGE_EXIT);
}

interface Parsed {
  bench: Benchmark;
  json: boolean;
  redis: string | undefined;
  flags: Record<string, number | string>;
}

function parse(argv: string[]): Parsed {
  const args = argv[0] === '--' ? argv.slice(1) : argv;
  const [name, ...rest] = args;
  if (!name || name.startsWith('-')) usage();
  const bench = benchmarks.find((b) => b.name === name);
  if (!bench) usage(`unknown benchmark: ${name}`);
  const flags: Record<string, number | string> = {};
  for (const [flag, spec] of Object.entries(bench.flags)) flags[flag] = spec.default;
  let json = false;
  let redis: string | undefined;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i] as string;
    if (arg === '--json') {
      json = true;
      continue;
    }
    const match = /^--([a-z0-9-]+)(?:=(.*))?$/.exec(arg);
    if (!match) usage(`unexpected argument: ${arg}`);
    const flag = match[1] as string;
    const value = match[2] ?? rest[++i];
    if (value === undefined) usage(`--${flag} needs a value`);
    if (flag === 'redis') {
      redis = value;
      continue;
    }
    const spec = bench.flags[flag];
    if (!spec) usage(`${bench.name} has no flag --${flag}`);
    if (typeof spec.default === 'number') {
      const n = Number(value);
      if (!Number.isSafeInteger(n) || n <= 0) usage(`--${flag} must be a positive integer, got ${value}`);
      flags[flag] = n;
    } else {
      flags[flag] = value;
    }
  }
  return { bench, json, redis, flags };
}

function context(redisUrl: string, flags: Record<string, number | string>): BenchContext {
  return {
    redisUrl,
    int(flag) {
      const value = flags[flag];
      if (typeof value !== 'number') throw new Error(`no integer flag --${flag}`);
      return value;
    },
    str(flag) {
      const value = flags[flag];
      if (typeof value !== 'string') throw new Error(`no string flag --${flag}`);
      return value;
    },
    log(message) {
      process.stderr.write(`[bench] ${message}\n`);
    },
  };
}

async function main(): Promise<number> {
  const { bench, json, redis, flags } = parse(process.argv.slice(2));
  let server: PrivateRedis | undefined;
  const stopOnSignal = (signal: NodeJS.Signals) => {
    process.stderr.write(`[bench] ${signal}: stopping\n`);
    killAllChildren();
    process.exit(130);
  };
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);
  try {
    if (!redis) {
      server = await startPrivateRedis();
      process.stderr.write(`[bench] private redis-server at ${server.url}\n`);
    }
    const url = redis ?? (server as PrivateRedis).url;
    if (redis && !(await answersPing(redis))) throw new Error(`no Redis answers PING at ${redactUrl(redis)}`);
    const ctx = context(url, flags);
    const result = await bench.run(ctx);
    const machine = await describeMachine(url);
    const path = await writeResultsFile(bench.name, flags, result, machine);
    if (json) {
      process.stdout.write(`${jsonLines(result)}\n`);
    } else {
      const settings = Object.entries(flags)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ');
      const title = `${bench.name}  (${settings})`;
      const where = `${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB} GiB, node ${machine.node}, redis ${machine.redisServer}, ${machine.date}`;
      process.stdout.write(`${renderTable(title, result)}\n\n${where}\n`);
    }
    process.stderr.write(`[bench] results written to ${path}\n`);
    return 0;
  } catch (error) {
    process.stderr.write(
      `[bench] ${bench.name} failed: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    return 1;
  } finally {
    await server?.stop().catch(() => {});
    killAllChildren();
  }
}

main().then((code) => {
  process.exitCode = code;
  // Everything is closed by now; if some handle still holds the loop open, do not hang.
  setTimeout(() => {
    process.stderr.write('[bench] warning: open handles remained after the run; exiting anyway\n');
    process.exit(code);
  }, 3_000).unref();
});
