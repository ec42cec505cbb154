import { beforeAll, describe, expect, it } from 'vitest';
import { swarmCli } from '../support/cli';
import { useRedisServer } from '../support/redis-server';

/**
 * The field report's steps 2-5, for real: each step is its own OS process, and the worker
 * process exits before the finding is read back.
 */
describe('the walkthrough: post, an ephemeral worker, the finding persists', () => {
  const redis = useRedisServer();
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    env = { SWARM_REDIS_URL: redis.url };
  });

  it('runs redis_health_check through a worker that claims it, reports and exits', async () => {
    const context = await swarmCli(['context', 'put', 'health', '-'], {
      env,
      input: 'session history of the shard',
    });
    const ref = context.stdout.trim();
    const posted = await swarmCli(
      ['post', 'health', 'redis_health_check', '--data', '{"test":"ping"}', '--context', ref],
      { env },
    );
    expect(posted.code).toBe(0);
    const taskId = posted.stdout.trim();

    const worker = await swarmCli(['worker', 'health', 'redis_health_check', '--once'], { env });
    expect(worker.code).toBe(0);
    expect(worker.stdout).toContain('Redis ping successful: PONG');

    const human = await swarmCli(['findings', 'health'], { env });
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('Redis ping successful: PONG');
    expect(human.stdout).toContain(taskId);

    const json = await swarmCli(['findings', 'health', '--json'], { env });
    const finding = JSON.parse(json.stdout.trim());
    expect(finding).toMatchObject({
      swarm: 'health',
      taskId,
      type: 'redis_health_check',
      summary: 'Redis ping successful: PONG',
      contextVersion: ref,
      attempt: 1,
    });
    expect(finding.workerId).toMatch(/.+-\d+-/);
  });

  it('exits 3 when no task comes within --wait', async () => {
    const result = await swarmCli(['worker', 'empty', 'echo', '--once', '--wait', '0.3'], { env });
    expect(result.code).toBe(3);
  });
});
