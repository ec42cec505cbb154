// Inlined by the bundler: the bundle reads no package.json at run time.
import packageJson from '../package.json' with { type: 'json' };
import { paintErr } from './colour';
import type { Command } from './command';
import { commands } from './commands/index';
import { didYouMean } from './did-you-mean';
import { EXIT, UsageError } from './errors';
import { generalUsage, verbHelp } from './help';
import { createOutput } from './output';
import { parseFlags } from './parse-flags';
import { startTracingIfAsked, stopTracing } from './tracing';

const catalog = (): Promise<Command[]> => Promise.all(Object.values(commands).map((load) => load()));

async function loadVerb(verb: string): Promise<Command> {
  const load = Object.hasOwn(commands, verb) ? commands[verb] : undefined;
  if (!load)
    throw new UsageError(
      `unknown command "${verb}"${didYouMean(verb, Object.keys(commands))} (swarm --help lists every command)`,
    );
  return load();
}

export async function main(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb === 'help' && rest.length > 0) {
    process.stdout.write(`${verbHelp(await loadVerb(rest[0] as string))}\n`);
    return EXIT.ok;
  }
  if (!verb || verb === '--help' || verb === '-h' || verb === 'help') {
    process.stdout.write(`${generalUsage(await catalog())}\n`);
    return verb ? EXIT.ok : EXIT.usage;
  }
  if (verb === '--version' || verb === '-V') {
    process.stdout.write(`${packageJson.version}\n`);
    return EXIT.ok;
  }
  const command = await loadVerb(verb);
  const parsed = parseFlags(verb, rest, command.options);
  if (parsed.values.help) {
    process.stdout.write(`${verbHelp(command)}\n`);
    return EXIT.ok;
  }
  const out = createOutput(Boolean(parsed.values.json));
  const tracing = await startTracingIfAsked();
  try {
    return await command.run({
      positionals: parsed.positionals,
      values: parsed.values as Record<string, string | boolean | undefined>,
      out,
      redis: parsed.values.redis as string | undefined,
      catalog,
    });
  } finally {
    await stopTracing(tracing);
  }
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
  // An OTEL_* variable asking for an exporter or protocol swarm does not have.
  'SWARM_TRACING_INVALID',
]);

/** A user's mistake gets its message and exit 2; a runtime failure its message and exit 1; never a stack. */
export function exitCodeFor(error: unknown): number {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`${paintErr.red('swarm:')} ${message}\n`);
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

// `swarm findings … | head -1`: the reader has all it wanted. Not a failure, and nothing to say.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(EXIT.ok);
  process.exit(exitCodeFor(error));
});

main(process.argv.slice(2)).then(exitSoon, (error: unknown) => exitSoon(exitCodeFor(error)));
