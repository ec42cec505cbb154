import { parseArgs } from 'node:util';
import { SwarmError } from '@swarm/core';
import type { Command } from './command';
import { context } from './commands/context';
import { dlq } from './commands/dlq';
import { findings } from './commands/findings';
import { post } from './commands/post';
import { run } from './commands/run';
import { status } from './commands/status';
import { validate } from './commands/validate';
import { worker } from './commands/worker';
import { EXIT, UsageError } from './errors';
import { createOutput } from './output';

const commands: Command[] = [run, validate, post, worker, findings, status, dlq, context];

const GLOBAL_OPTIONS = {
  redis: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

function usage(): string {
  return [
    'usage: swarm <command> [options]',
    '',
    ...commands.map((c) => `  ${c.usage}\n      ${c.summary}`),
    '',
    'options for every command:',
    '  --redis <url>   Redis to use (default $SWARM_REDIS_URL; `run` falls back to the embedded transport)',
    '  --json          one JSON object per line instead of text',
    '',
    'exit codes: 0 ok, 1 runtime failure, 2 usage or validation error, 3 no task (worker --once)',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  if (!verb || verb === '--help' || verb === '-h' || verb === 'help') {
    process.stdout.write(`${usage()}\n`);
    return verb ? EXIT.ok : EXIT.usage;
  }
  const command = commands.find((c) => c.name === verb);
  if (!command) throw new UsageError(`unknown command "${verb}"\n\n${usage()}`);
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

/** A user's mistake gets its message and exit 2; a runtime failure its message and exit 1; never a stack. */
export function exitCodeFor(error: unknown): number {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`swarm: ${message}\n`);
  if (process.env.SWARM_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
  if (error instanceof UsageError) return EXIT.usage;
  if (error instanceof SwarmError)
    return [
      'SWARM_TOPOLOGY_INVALID',
      'SWARM_INVALID_NAME',
      'SWARM_PAYLOAD_TOO_LARGE',
      'SWARM_INVALID_TASK',
    ].includes(error.code)
      ? EXIT.usage
      : EXIT.failure;
  return EXIT.failure;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.exitCode = exitCodeFor(error);
  },
);
