import { parseArgs } from 'node:util';
// Inlined by the bundler: the bundle reads no package.json at run time.
import packageJson from '../package.json' with { type: 'json' };
import { commands } from './commands/index';
import { EXIT, UsageError } from './errors';
import { createOutput } from './output';

const GLOBAL_OPTIONS = {
  redis: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

async function usage(): Promise<string> {
  const all = await Promise.all(Object.values(commands).map((load) => load()));
  return [
    'usage: swarm <command> [options]',
    '',
    ...all.map((c) => `  ${c.usage}\n      ${c.summary}`),
    '',
    'options for every command:',
    '  --redis <url>   Redis to use (default $SWARM_REDIS_URL; `run` falls back to the embedded transport)',
    '  --json          one JSON object per line instead of text',
    '',
    'swarm --version (-V) prints the version; swarm <command> --help, the usage of one command',
    '',
    'exit codes: 0 ok, 1 runtime failure (worker --once: the task failed; run --once: a task was dead-lettered),',
    '            2 usage or validation error, 3 no task (worker --once, claim),',
    '            4 the task is no longer held (report, renew, fail: already settled or lease lost; worker --once: lease lost)',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  if (!verb || verb === '--help' || verb === '-h' || verb === 'help') {
    process.stdout.write(`${await usage()}\n`);
    return verb ? EXIT.ok : EXIT.usage;
  }
  if (verb === '--version' || verb === '-V') {
    process.stdout.write(`${packageJson.version}\n`);
    return EXIT.ok;
  }
  const load = Object.hasOwn(commands, verb) ? commands[verb] : undefined;
  if (!load) throw new UsageError(`unknown command "${verb}"\n\n${await usage()}`);
  const command = await load();
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: rest,
      options: { ...GLOBAL_OPTIONS, ...command.options },
      allowPositionals: true,
    });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\nusage: ${command.usage}`);
  }
  if (parsed.values.help) {
    process.stdout.write(`usage: ${command.usage}\n${command.summary}\n`);
    return EXIT.ok;
  }
  const out = createOutput(Boolean(parsed.values.json));
  return command.run({
    positionals: parsed.positionals,
    values: parsed.values as Record<string, string | boolean | undefined>,
    out,
    redis: parsed.values.redis as string | undefined,
  });
}

const USER_ERRORS = new Set([
  'SWARM_USAGE',
  'SWARM_TOPOLOGY_INVALID',
  'SWARM_INVALID_NAME',
  'SWARM_PAYLOAD_TOO_LARGE',
  'SWARM_INVALID_TASK',
  'SWARM_INVALID_CLAIM',
  'SWARM_INVALID_REDIS_URL',
  // A model provider without its key or kind: the message names the variable to set.
  'SWARM_PROVIDER_INVALID',
]);

/** A user's mistake gets its message and exit 2; a runtime failure its message and exit 1; never a stack. */
export function exitCodeFor(error: unknown): number {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`swarm: ${message}\n`);
  if (process.env.SWARM_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
  // Matched by code rather than class: main stays free of core's imports, and each verb's bundle
  // carries its own copy of UsageError.
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && USER_ERRORS.has(code) ? EXIT.usage : EXIT.failure;
}

/** Once the verb is done, a handle someone forgot (a socket, a timer) must not keep the process alive. */
function exitSoon(code: number): void {
  process.exitCode = code;
  setTimeout(() => process.exit(code), 2_000).unref();
}

// An error nothing handled (an Observable without an error callback) ends the process the same way:
// Node's own report prints the whole error object, and an ioredis AUTH error holds the password.
process.on('uncaughtException', (error) => process.exit(exitCodeFor(error)));

main(process.argv.slice(2)).then(exitSoon, (error: unknown) => exitSoon(exitCodeFor(error)));
