import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RedisBus } from '@swarm/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { swarmCli } from '../support/cli';
import { useRedisServer } from '../support/redis-server';
import { uniqueSwarm } from '../worker/helpers';

interface ClaimJson {
  claim: string;
  task: { id: string; attempt: number; data: unknown; description: string };
  context: { ref: string; bytes: number | null; file: string | null } | null;
}

/**
 * The agent is the worker: `swarm claim` and `swarm report` as separate OS processes, the way a
 * spawned agent calls them, on a real Redis. Each process exits before the next one starts.
 */
describe('swarm claim / report / renew / fail', () => {
  const redis = useRedisServer();
  let env: NodeJS.ProcessEnv;
  let bus: RedisBus;

  beforeAll(async () => {
    env = { SWARM_REDIS_URL: redis.url };
    bus = new RedisBus({ url: redis.url });
  });
  afterAll(async () => {
    await bus.close();
  });

  const claim = async (swarm: string, ...flags: string[]): Promise<ClaimJson> => {
    const claimed = await swarmCli(['claim', swarm, 'ask', '--wait', '5', '--json', ...flags], { env });
    expect(claimed.stderr).not.toContain('    at ');
    expect(claimed.code, claimed.stderr).toBe(0);
    return JSON.parse(claimed.stdout) as ClaimJson;
  };

  it("claims a task, writes the shard's context to a file, reports it once, and exits between steps", async () => {
    const swarm = uniqueSwarm();
    const context = 'session history of the shard\n'.repeat(1_000);
    const ref = await bus.context.put(swarm, context);
    const posted = await bus.post(swarm, 'ask', {
      description: 'what happened?',
      data: { n: 1 },
      context: ref,
    });
    const file = join(mkdtempSync(join(tmpdir(), 'swarm-claim-')), 'context.txt');

    const claimed = await claim(swarm, '--context-file', file);
    expect(claimed.task).toMatchObject({
      id: posted.id,
      attempt: 1,
      data: { n: 1 },
      description: 'what happened?',
    });
    expect(claimed.context).toEqual({ ref, bytes: Buffer.byteLength(context), file });
    expect(readFileSync(file, 'utf8')).toBe(context);
    expect(claimed.claim.split('/').slice(0, 2)).toEqual([swarm, 'ask']);

    const reported = await swarmCli(
      [
        'report',
        claimed.claim,
        '--summary',
        'nothing much',
        '--data',
        '{"lines":1000}',
        '--tag',
        'a',
        '--tag',
        'b',
      ],
      { env },
    );
    expect(reported.code, reported.stderr).toBe(0);
    const [finding] = await bus.readFindings(swarm);
    expect(reported.stdout.trim()).toBe(finding?.id);
    expect(finding).toMatchObject({
      taskId: posted.id,
      summary: 'nothing much',
      data: { lines: 1000 },
      tags: ['a', 'b'],
      contextVersion: ref,
      attempt: 1,
    });

    const again = await swarmCli(['report', claimed.claim, '--summary', 'twice'], { env });
    expect(again.code).toBe(4);
    expect(again.stderr).toContain('already settled');
    expect(await bus.readFindings(swarm)).toHaveLength(1);
  });

  it('prints the claim for people, with the context reference to read it by', async () => {
    const swarm = uniqueSwarm();
    const ref = await bus.context.put(swarm, 'twelve bytes');
    await bus.post(swarm, 'ask', { description: 'read it', context: ref });
    const human = await swarmCli(['claim', swarm, 'ask', '--wait', '5'], { env });
    expect(human.code, human.stderr).toBe(0);
    const handle = /^claim\s+(\S+)$/m.exec(human.stdout)?.[1] ?? '';
    expect(human.stdout).toContain(`swarm context get ${swarm} ${ref}`);
    expect(human.stdout).toContain('12 bytes');
    const context = await swarmCli(['context', 'get', swarm, ref], { env });
    expect(context.stdout).toBe('twelve bytes');
    expect((await swarmCli(['report', handle, '--summary', 'read'], { env })).code).toBe(0);
  });

  it('exits 3 when no task comes within --wait', async () => {
    const result = await swarmCli(['claim', uniqueSwarm(), 'ask', '--wait', '0', '--json'], { env });
    expect(result.code).toBe(3);
    expect(JSON.parse(result.stdout)).toMatchObject({ outcome: 'no-task' });
  });

  it('lets one of two agents reporting the same claim write the finding; the other is told already settled', async () => {
    const swarm = uniqueSwarm();
    await bus.post(swarm, 'ask', {});
    const claimed = await claim(swarm);
    const [a, b] = await Promise.all([
      swarmCli(['report', claimed.claim, '--summary', 'from a'], { env }),
      swarmCli(['report', claimed.claim, '--summary', 'from b'], { env }),
    ]);
    expect([a.code, b.code].sort()).toEqual([0, 4]);
    expect((a.code === 4 ? a : b).stderr).toContain('already settled');
    const findings = await bus.readFindings(swarm);
    expect(findings).toHaveLength(1);
    expect(findings[0]?.summary).toBe(a.code === 0 ? 'from a' : 'from b');
  });

  it('refuses a report with invalid --data (exit 2) and keeps the claim held for a good one', async () => {
    const swarm = uniqueSwarm();
    await bus.post(swarm, 'ask', {});
    const claimed = await claim(swarm);
    const bad = await swarmCli(['report', claimed.claim, '--summary', 'x', '--data', '{nope'], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--data is not valid JSON');
    expect(bad.stderr).not.toContain('    at ');
    expect(await bus.readFindings(swarm)).toHaveLength(0);
    expect((await bus.status(swarm)).types).toMatchObject([{ type: 'ask', inFlight: 1 }]);
    expect((await swarmCli(['renew', claimed.claim], { env })).code).toBe(0);
    expect((await swarmCli(['report', claimed.claim, '--summary', 'good'], { env })).code).toBe(0);
  });

  it('refuses a handle that is not one (exit 2, no stack)', async () => {
    const result = await swarmCli(['report', 'not-a-claim', '--summary', 'x'], { env });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('invalid claim');
    expect(result.stderr).not.toContain('    at ');
  });

  it('reclaims the task of an agent that claimed and died once its lease runs out; its late report is refused', async () => {
    const swarm = uniqueSwarm();
    const posted = await bus.post(swarm, 'ask', { data: 'orphan' });
    // The first agent claims with a short lease and never comes back (its process has exited).
    const dead = await claim(swarm, '--lease-ms', '300');
    const second = await claim(swarm, '--lease-ms', '60000');
    expect(second.task).toMatchObject({ id: posted.id, attempt: 2 });

    const late = await swarmCli(['report', dead.claim, '--summary', 'too late'], { env });
    expect(late.code).toBe(4);
    expect(late.stderr).toContain('lease lost');
    const renew = await swarmCli(['renew', dead.claim], { env });
    expect(renew.code).toBe(4);
    expect((await swarmCli(['report', second.claim, '--summary', 'on time'], { env })).code).toBe(0);
    const afterwards = await swarmCli(['report', dead.claim, '--summary', 'later still'], { env });
    expect(afterwards.code).toBe(4);
    expect(afterwards.stderr).toContain('already settled');
    expect((await bus.readFindings(swarm)).map((f) => f.summary)).toEqual(['on time']);
  });

  it('renews a claim to a new lease', async () => {
    const swarm = uniqueSwarm();
    await bus.post(swarm, 'ask', {});
    const claimed = await claim(swarm, '--lease-ms', '300');
    const renewed = await swarmCli(['renew', claimed.claim, '--lease-ms', '60000', '--json'], { env });
    expect(renewed.code, renewed.stderr).toBe(0);
    expect(JSON.parse(renewed.stdout)).toMatchObject({ outcome: 'renewed', leaseMs: 60_000 });
    // A worker with a short lease finds nothing to take: the claim's new lease holds.
    const other = await swarmCli(['claim', swarm, 'ask', '--wait', '1', '--lease-ms', '100'], { env });
    expect(other.code).toBe(3);
  });

  it('fails a claim into a retry that says so, and with --no-retry into the dead letters', async () => {
    const swarm = uniqueSwarm();
    await bus.post(swarm, 'ask', { data: 'hard' });
    const first = await claim(swarm);
    const retried = await swarmCli(['fail', first.claim, '--error', 'the model refused'], { env });
    expect(retried.code, retried.stderr).toBe(0);
    expect(retried.stdout).toMatch(/^will be retried: attempt 2 in \d+\.\d s/);

    const second = await claim(swarm, '--wait', '10');
    expect(second.task).toMatchObject({ data: 'hard', attempt: 2 });
    const dead = await swarmCli(['fail', second.claim, '--error', 'hopeless', '--no-retry', '--json'], {
      env,
    });
    expect(dead.code, dead.stderr).toBe(0);
    expect(JSON.parse(dead.stdout)).toMatchObject({
      outcome: 'dead',
      reason: 'failed without retry: hopeless',
    });
    const letters = await swarmCli(['dlq', swarm, 'list', '--json'], { env });
    expect(letters.stdout).toContain('the model refused');
    expect(letters.stdout).toContain('hopeless');
    expect((await swarmCli(['fail', second.claim, '--error', 'again'], { env })).code).toBe(4);
  });
});
