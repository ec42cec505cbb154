import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keys, RedisBus } from '@swarm/core';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonLines, swarmCli } from '../support/cli';
import { startRedisServer, useRedisServer } from '../support/redis-server';
import { until } from '../support/until';

/**
 * What a client in another language finds for itself (docs/PROTOCOL.md): the scripts, as
 * `swarm protocol scripts` writes them, and the swarm's retention, recorded in Redis.
 */

process.env.SWARM_LOG_LEVEL ??= 'silent';

const SCRIPT_FILES = [
  'complete',
  'dead-letter',
  'durable-probe',
  'ledger-cool-down',
  'ledger-release',
  'ledger-reserve',
  'ledger-settle',
  'mark-durable',
  'post-batch',
  'post-idempotent',
  'promote',
  'prune-consumers',
  'publish-findings',
  'read-findings',
  'reclaim',
  'remove-consumer',
  'renew',
  'retry',
  'retry-dead-letter',
];

describe('what a foreign client reads from swarm', () => {
  const redis = useRedisServer();
  let raw: Redis;
  const dir = mkdtempSync(join(tmpdir(), 'swarm-scripts-'));

  beforeAll(async () => {
    raw = new Redis(redis.url);
  });
  afterAll(async () => {
    raw.disconnect();
    rmSync(dir, { recursive: true, force: true });
  });

  it('`swarm protocol scripts` writes every script, includes expanded, with the SHA1 RedisBus calls', async () => {
    const written = await swarmCli(['protocol', 'scripts', '--dir', dir, '--json']);
    expect(written.code, written.stderr).toBe(0);
    const records = jsonLines<{ script: string; file: string; sha1: string; keys: number }>(written.stdout);
    expect(records.map((r) => r.script).sort()).toEqual(SCRIPT_FILES);
    for (const r of records) {
      const text = readFileSync(r.file, 'utf8');
      expect(r.file).toBe(join(dir, `${r.script}.lua`));
      expect(text, r.script).not.toContain('@include');
      expect(createHash('sha1').update(text).digest('hex')).toBe(r.sha1);
    }

    // An empty script cache, then a bus that runs every script once: each written file's SHA1
    // is then in the cache, so a foreign EVALSHA with it runs the script swarm runs.
    await raw.script('FLUSH');
    const bus = new RedisBus({ url: redis.url });
    try {
      const swarm = 'scripts';
      await bus.post(swarm, 'work', { description: 'post-batch' });
      await bus.post(swarm, 'work', { description: 'post-idempotent', idempotencyKey: 'k' });
      await bus.publish(swarm, { type: 'note', summary: 'publish-findings' });
      // claim: prune-consumers, promote, reclaim (and remove-consumer when it is settled).
      const first = await bus.claim(swarm, 'work', { leaseMs: 60_000 });
      const second = await bus.claim(swarm, 'work', { leaseMs: 60_000 });
      if (!first || !second) throw new Error('expected two claims');
      expect(await bus.renewClaim(first.handle)).toMatchObject({ outcome: 'renewed' }); // renew
      expect(await bus.report(first.handle, { summary: 'complete' })).toMatchObject({ outcome: 'completed' });
      expect(await bus.failClaim(second.handle, 'boom')).toMatchObject({ outcome: 'retry' }); // retry
      const third = await bus.claim(swarm, 'work', { waitMs: 10_000 });
      if (!third) throw new Error('expected the retried task');
      await bus.failClaim(third.handle, 'again', { retry: false }); // dead-letter
      const [letter] = await bus.deadLetters(swarm);
      await bus.retryDeadLetter(swarm, letter?.id ?? ''); // retry-dead-letter
      const hold = { holder: 'h1', usd: 0.01, tokens: 10, budgets: [], rates: [], holdMs: 60_000 };
      await bus.ledger.reserve(swarm, hold); // ledger-reserve
      await bus.ledger.settle(swarm, { holder: 'h1', usd: 0, tokens: 0, budgets: [], rates: [] }); // ledger-settle
      await bus.ledger.release(swarm, 'h1'); // ledger-release
      await bus.ledger.coolDown(swarm, 'vendor', 1); // ledger-cool-down
      await bus.readFindings(swarm); // read-findings
    } finally {
      await bus.close();
    }
    // A durable swarm needs a replica: mark-durable after its writes, durable-probe when a reader
    // finds the mark lagging (a finding written raw, which no writer marks) for 2 s.
    const replica = await startRedisServer();
    const durable = new RedisBus({ url: redis.url, durability: { replicas: 1, timeoutMs: 5_000 } });
    const follower = new Redis(replica.url);
    try {
      await follower.replicaof('127.0.0.1', Number(new URL(redis.url).port));
      await until(
        async () => (await follower.info('replication')).includes('master_link_status:up'),
        'the replica',
      );
      const swarm = 'durable-scripts';
      await durable.publish(swarm, { type: 'note', summary: 'mark-durable' });
      await raw.xadd(keys.findings(swarm), '*', 'finding', '{}');
      await durable.lastFindingId(swarm);
      await new Promise((resolve) => setTimeout(resolve, 2_100));
      await durable.lastFindingId(swarm); // durable-probe
      const probe = records.find((r) => r.script === 'durable-probe')?.sha1 ?? '';
      const ran = async () => ((await raw.call('SCRIPT', 'EXISTS', probe)) as number[])[0] === 1;
      await until(ran, 'durable-probe to run');
    } finally {
      await durable.close();
      follower.disconnect();
      await replica.stop();
    }
    const cached = (await raw.call('SCRIPT', 'EXISTS', ...records.map((r) => r.sha1))) as number[];
    expect(Object.fromEntries(records.map((r, i) => [r.script, cached[i]]))).toEqual(
      Object.fromEntries(records.map((r) => [r.script, 1])),
    );
  });

  it('records the bounds a worker trims with in swarm:{S}:retention, and an unbounded worker leaves them', async () => {
    const swarm = 'kept';
    const bounded = new RedisBus({
      url: redis.url,
      retention: { findings: { maxLen: 1_000 }, deadLetters: { maxAgeMs: 86_400_000 } },
    });
    const unbounded = new RedisBus({ url: redis.url });
    try {
      expect(await bounded.claim(swarm, 'work')).toBeUndefined();
      expect(await raw.hgetall(keys.retention(swarm))).toEqual({
        findings: 'MAXLEN 1000',
        dead: 'MAXAGE 86400000',
      });
      expect(await unbounded.claim(swarm, 'work')).toBeUndefined();
      expect(await raw.hgetall(keys.retention(swarm))).toEqual({
        findings: 'MAXLEN 1000',
        dead: 'MAXAGE 86400000',
      });
      expect(await raw.exists(keys.retention('never-bounded'))).toBe(0);
      expect(await unbounded.claim('never-bounded', 'work')).toBeUndefined();
      expect(await raw.exists(keys.retention('never-bounded'))).toBe(0);
    } finally {
      await bounded.close();
      await unbounded.close();
    }
  });
});
