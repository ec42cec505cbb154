import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { jsonLines, ROOT, swarmCli } from '../support/cli';
import { useRedisServer } from '../support/redis-server';

/** Issue #9: agents and scripts read a failed task from the exit code and the message alone. */

const FAILS = 'test/cli/fixtures/fails.mjs';
const DEAD_LETTER_TOPOLOGY = join(ROOT, 'test/cli/fixtures/dead-letter.yaml');

describe('swarm worker --once with a failing handler', () => {
  const redis = useRedisServer();
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    env = { SWARM_REDIS_URL: redis.url };
  });

  const post = async (swarm: string) => {
    const posted = await swarmCli(['post', swarm, 'work', '--description', 'try me'], { env });
    expect(posted.code, posted.stderr).toBe(0);
    return posted.stdout.trim();
  };

  it('--max-attempts 1 dead-letters the task at its first failure and exits 1 saying so', async () => {
    const taskId = await post('once-dead');
    const worker = await swarmCli(
      ['worker', 'once-dead', 'work', '--once', '--max-attempts', '1', '--handler', FAILS, '--wait', '5'],
      { env },
    );
    expect(worker.code, worker.stderr).toBe(1);
    expect(worker.stdout).toContain(`task ${taskId} failed on attempt 1 of 1 and was dead-lettered`);
    expect(worker.stdout).toContain('refused on attempt 1');

    const list = await swarmCli(['dlq', 'once-dead', 'list', '--json'], { env });
    expect(list.code).toBe(0);
    const letters = jsonLines(list.stdout);
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({
      type: 'work',
      reason: 'failed 1 of 1 attempts: refused on attempt 1',
      task: { id: taskId },
      errors: [{ attempt: 1, message: 'refused on attempt 1' }],
    });
    // Nothing is left to retry: a second worker finds no task.
    const again = await swarmCli(
      ['worker', 'once-dead', 'work', '--once', '--handler', FAILS, '--wait', '0.3'],
      {
        env,
      },
    );
    expect(again.code).toBe(3);
  });

  it('says a failed task will be retried, with the attempt it is on and the next one', async () => {
    const taskId = await post('once-retry');
    const worker = await swarmCli(
      ['worker', 'once-retry', 'work', '--once', '--handler', FAILS, '--wait', '5'],
      {
        env,
      },
    );
    expect(worker.code, worker.stderr).toBe(1);
    expect(worker.stdout).toMatch(
      new RegExp(
        `task ${taskId} failed on attempt 1 of 3; it will be retried \\(attempt 2 of 3\\) in [\\d.]+ s: refused on attempt 1`,
      ),
    );
    const list = await swarmCli(['dlq', 'once-retry', 'list', '--json'], { env });
    expect(jsonLines(list.stdout)).toEqual([]);
  });

  it('--json carries the outcome, the attempt, what happens next, and the error', async () => {
    const taskId = await post('once-json');
    const args = ['worker', 'once-json', 'work', '--once', '--handler', FAILS, '--wait', '5', '--json'];
    const first = await swarmCli([...args, '--max-attempts', '2'], { env });
    expect(first.code, first.stderr).toBe(1);
    expect(jsonLines(first.stdout)).toEqual([
      {
        outcome: 'failed',
        taskId,
        attempt: 1,
        maxAttempts: 2,
        next: 'retry',
        retryInMs: expect.any(Number),
        error: 'refused on attempt 1',
        swarm: 'once-json',
        type: 'work',
      },
    ]);
    const second = await swarmCli([...args, '--max-attempts', '2'], { env });
    expect(second.code, second.stderr).toBe(1);
    expect(jsonLines(second.stdout)).toEqual([
      {
        outcome: 'failed',
        taskId,
        attempt: 2,
        maxAttempts: 2,
        next: 'dead-letter',
        error: 'refused on attempt 2',
        swarm: 'once-json',
        type: 'work',
      },
    ]);
  });
});

describe('swarm run --once with a dead-lettered task', () => {
  const redis = useRedisServer();

  it.each([
    ['embedded', () => ({})],
    ['Redis', () => ({ SWARM_REDIS_URL: redis.url })],
  ])('exits 1 and prints the dead letter with its last error (%s)', async (_transport, env) => {
    const result = await swarmCli(['run', DEAD_LETTER_TOPOLOGY, '--once'], { env: env() });
    expect(result.code, result.stderr).toBe(1);
    expect(result.stdout).toContain('this one is answered');
    expect(result.stdout).toMatch(
      / {2}fail {2}task \S+ {2}dead-lettered after attempt 2\n {2}refused on attempt 2\n/,
    );
    expect(result.stderr).toContain('done: 2 task(s), 1 finding(s), 1 dead letter(s)');
  });

  it('--json prints the dead letter as a record beside the findings', async () => {
    const result = await swarmCli(['run', DEAD_LETTER_TOPOLOGY, '--once', '--json']);
    expect(result.code, result.stderr).toBe(1);
    const records = jsonLines(result.stdout);
    expect(records.filter((r) => 'summary' in r).map((r) => r.summary)).toEqual(['this one is answered']);
    expect(records.filter((r) => 'deadLetter' in r)).toEqual([
      {
        deadLetter: expect.any(String),
        swarm: 'doomed',
        type: 'fail',
        taskId: expect.any(String),
        attempt: 2,
        error: 'refused on attempt 2',
        reason: 'failed 2 of 2 attempts: refused on attempt 2',
      },
    ]);
  });
});
