import type { SwarmStatus } from '@swarm/core';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { type CliProcess, jsonLines, startSwarmCli, swarmCli } from '../support/cli';
import { useRedisServer } from '../support/redis-server';
import { until } from '../support/until';

/**
 * Issue #11: an error that repeats is never silent. A `swarm worker` whose reads keep failing
 * logs it with a count and records it, and `swarm status` shows it until the reads work again.
 */
describe('swarm status shows a worker whose reads keep failing', () => {
  const redis = useRedisServer();
  const workers: CliProcess[] = [];
  afterEach(() => {
    for (const w of workers.splice(0)) w.child.kill('SIGKILL');
  });

  const statusOf = async (swarm: string): Promise<{ status: SwarmStatus; text: string }> => {
    const env = { SWARM_REDIS_URL: redis.url };
    const json = await swarmCli(['status', swarm, '--json'], { env });
    const text = await swarmCli(['status', swarm], { env });
    return { status: jsonLines<SwarmStatus>(json.stdout)[0] as SwarmStatus, text: text.stdout };
  };

  it('records the error with its count, shows it, and clears it once reads work', async () => {
    const swarm = 'broken';
    const raw = new Redis(redis.url);
    try {
      // Someone wrote a plain string where the task stream belongs: every read fails.
      await raw.set(`swarm:{${swarm}}:tasks:echo`, 'not a stream');
      const worker = startSwarmCli(['worker', swarm, 'echo'], { env: { SWARM_REDIS_URL: redis.url } });
      workers.push(worker);
      await until(
        async () => (await statusOf(swarm)).status.errors.length > 0,
        () => `the repeated error in swarm status (worker said: ${worker.stderr})`,
        { limitMs: 60_000, everyMs: 200 },
      );
      const { status, text } = await statusOf(swarm);
      const [error] = status.errors;
      expect(error).toMatchObject({
        type: 'echo',
        what: 'reading tasks',
        error: expect.stringContaining('WRONGTYPE'),
      });
      expect(error?.failures).toBeGreaterThan(1);
      expect(text).toContain('failing:');
      expect(text).toContain('reading tasks');
      // It is also in the worker's log, at error level, with the count.
      expect(worker.stderr).toMatch(/reading tasks keeps failing \(\d+ times/);
      await raw.del(`swarm:{${swarm}}:tasks:echo`);
      await until(async () => (await statusOf(swarm)).status.errors.length === 0, 'the error to be cleared', {
        limitMs: 60_000,
        everyMs: 200,
      });
    } finally {
      raw.disconnect();
    }
  }, 120_000);
});
