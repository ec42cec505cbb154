import type { JsonValue } from '@swarm/core';
import type { Command } from '../command';
import { UsageError } from '../errors';
import { redisBus, withBus } from '../require-redis';

export const post: Command = {
  name: 'post',
  usage:
    'swarm post <swarm> <type> [--data <json>] [--description <text>] [--context <ref>] [--idempotency-key <key>]',
  summary: 'post one task and print its id',
  options: {
    data: { type: 'string', value: '<json>', description: "the task's data, as JSON", default: 'null' },
    description: { type: 'string', value: '<text>', description: 'what the task asks for, in words' },
    context: { type: 'string', value: '<ref>', description: 'a context reference (from swarm context put)' },
    'idempotency-key': {
      type: 'string',
      value: '<key>',
      description: 'post at most once per key (24 h window)',
    },
  },
  async run(input) {
    const [swarm, type] = input.positionals;
    if (!swarm || !type) throw new UsageError('swarm post needs <swarm> and <type>');
    let data: JsonValue = null;
    if (typeof input.values.data === 'string') {
      try {
        data = JSON.parse(input.values.data) as JsonValue;
      } catch (error) {
        throw new UsageError(`--data is not valid JSON: ${(error as Error).message}`);
      }
    }
    return withBus(redisBus(input, 'post'), async (bus) => {
      const posted = await bus.post(swarm, type, {
        data,
        description: input.values.description as string | undefined,
        context: input.values.context as string | undefined,
        idempotencyKey: input.values['idempotency-key'] as string | undefined,
      });
      input.out.result(
        posted.duplicate ? `${posted.id} (already posted under this idempotency key)` : posted.id,
        {
          swarm,
          type,
          ...posted,
        },
      );
      return 0;
    });
  },
};
