import { open } from 'node:fs/promises';
import { assertName, type Bus, type Claim } from '@swarm/core';
import type { Command } from '../command';
import { EXIT, UsageError } from '../errors';
import { positiveInt, secondsFlag } from '../flags';
import { redisBus, withBus } from '../require-redis';

interface ContextInfo {
  ref: string;
  bytes: number | null;
  file: string | null;
  error?: string;
}

/** Reads the claimed task's context: into `file` when given, else only its size, for `swarm context get`. */
async function contextOf(
  bus: Bus,
  claim: Claim,
  file: Awaited<ReturnType<typeof open>> | undefined,
  path: string | undefined,
): Promise<ContextInfo | null> {
  const ref = claim.task.context;
  if (ref === undefined) return null;
  try {
    const content = await bus.context.get(claim.task.swarm, ref);
    if (file) await file.writeFile(content);
    return { ref, bytes: content.length, file: file ? (path ?? null) : null };
  } catch (error) {
    // The claim stands either way: the agent holds a task and must settle it.
    return { ref, bytes: null, file: null, error: (error as Error).message };
  }
}

function describeClaim(claim: Claim, context: ContextInfo | null): string {
  const { task } = claim;
  const lines = [
    `claim    ${claim.handle}`,
    `task     ${task.id} (attempt ${task.attempt})${task.description ? `: ${task.description}` : ''}`,
  ];
  if (task.data !== null) lines.push(`data     ${JSON.stringify(task.data)}`);
  if (context?.error) lines.push(`context  ${context.ref}: ${context.error}`);
  else if (context?.file)
    lines.push(`context  ${context.ref}, ${context.bytes} bytes, written to ${context.file}`);
  else if (context)
    lines.push(
      `context  ${context.ref}, ${context.bytes} bytes: swarm context get ${task.swarm} ${context.ref}`,
    );
  lines.push(
    `lease    ${Math.round(claim.leaseMs / 1_000)} s: swarm renew ${claim.handle}`,
    `report   swarm report ${claim.handle} --summary <text> [--data <json>]`,
  );
  return lines.join('\n');
}

export const claim: Command = {
  name: 'claim',
  usage:
    'swarm claim <swarm> <type> [--wait <seconds>] [--lease-ms <ms>] [--context-file <path>] [--max-attempts <n>]',
  summary:
    'claim one task for an agent and print it with its claim handle; settle it with report or fail (exit 3 if none came)',
  options: {
    wait: { type: 'string', value: '<seconds>', description: 'how long to wait for a task', default: '10' },
    'lease-ms': {
      type: 'string',
      value: '<ms>',
      description: 'how long the claim holds its task unrenewed',
      default: '600000',
    },
    'context-file': { type: 'string', value: '<path>', description: "write the task's context to this file" },
    'max-attempts': {
      type: 'string',
      value: '<n>',
      description: 'deliveries before the task is dead-lettered',
      default: '5',
    },
  },
  async run(input) {
    const [swarm, type] = input.positionals;
    if (!swarm || !type) throw new UsageError('swarm claim needs <swarm> and <type>');
    assertName('swarm', swarm);
    assertName('task type', type);
    const waitMs = secondsFlag(input.values.wait, 10, '--wait');
    const leaseMs = positiveInt(input.values['lease-ms'], 600_000, '--lease-ms');
    const maxAttempts = positiveInt(input.values['max-attempts'], 5, '--max-attempts');
    const path = input.values['context-file'] as string | undefined;
    // Opened before claiming: a path we cannot write must not leave a task claimed by nobody.
    const file = path
      ? await open(path, 'w').catch((error: NodeJS.ErrnoException) => {
          throw new UsageError(`cannot write --context-file ${path}: ${error.code ?? error.message}`);
        })
      : undefined;
    try {
      return await withBus(redisBus(input, 'claim'), async (bus) => {
        const claimed = await bus.claim(swarm, type, { waitMs, leaseMs, maxAttempts });
        if (!claimed) {
          input.out.note(`no ${type} task in swarm ${swarm} within ${waitMs / 1_000} s`);
          input.out.result('', { outcome: 'no-task', swarm, type });
          return EXIT.noTask;
        }
        const context = await contextOf(bus, claimed, file, path);
        input.out.result(describeClaim(claimed, context), {
          claim: claimed.handle,
          task: claimed.task,
          context,
          leaseMs: claimed.leaseMs,
          expiresAt: claimed.expiresAt,
        });
        return EXIT.ok;
      });
    } finally {
      await file?.close();
    }
  },
};
