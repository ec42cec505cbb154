import { refuseClaim } from '../claim-refusal';
import type { Command } from '../command';
import { UsageError } from '../errors';
import { positiveInt } from '../flags';
import { redisBus, withBus } from '../require-redis';

export const fail: Command = {
  name: 'fail',
  usage: 'swarm fail <claim> --error <text> [--no-retry] [--max-attempts <n>]',
  summary:
    'fail a claimed task: retried with backoff, or dead-lettered with --no-retry or at --max-attempts (default 5)',
  options: {
    error: { type: 'string', value: '<text>', description: 'what went wrong (kept in the error history)' },
    'no-retry': { type: 'boolean', description: 'dead-letter at once instead of retrying' },
    'max-attempts': {
      type: 'string',
      value: '<n>',
      description: 'attempts before the task is dead-lettered',
      default: '5',
    },
  },
  async run(input) {
    const [handle] = input.positionals;
    if (!handle) throw new UsageError('swarm fail needs the <claim> that swarm claim printed');
    const error = input.values.error;
    if (typeof error !== 'string' || error.length === 0)
      throw new UsageError('swarm fail needs --error <text>');
    const maxAttempts = positiveInt(input.values['max-attempts'], 5, '--max-attempts');
    const retry = input.values['no-retry'] !== true;
    return withBus(redisBus(input, 'fail'), async (bus) => {
      const failed = await bus.failClaim(handle, error, { retry, maxAttempts });
      if (failed.outcome === 'settled' || failed.outcome === 'lost')
        return refuseClaim(input.out, handle, failed);
      const human =
        failed.outcome === 'retry'
          ? `will be retried: attempt ${failed.attempt} in ${(failed.delayMs / 1_000).toFixed(1)} s`
          : `dead-lettered: ${failed.reason}`;
      input.out.result(human, { claim: handle, ...failed });
      return 0;
    });
  },
};
