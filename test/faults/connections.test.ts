import { setTimeout as sleep } from 'node:timers/promises';
import { type Finding, RedisBus } from '@swarm/core';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { useRedisServer } from '../support/redis-server';
import { until } from '../support/until';
import { allFindings, FIXTURES, ledger, openTasks, postTasks, report, UNDER_LOAD, Workers } from './support';

/**
 * Issue #5: every client connection killed mid-run (CLIENT KILL), then Redis paused with SIGSTOP
 * for longer than a blocking read plus its watchdog, then resumed. No consumer may stay wedged,
 * no task may be lost or done twice, and a durable subscriber must miss nothing.
 */
describe('dropped connections and a frozen Redis', () => {
  const redis = useRedisServer();

  it('CLIENT KILL of every client, then SIGSTOP past the blocking timeout: nothing lost, nothing twice, nobody wedged', async () => {
    const swarm = 'cut';
    const TOTAL = 8_000;
    const bus = new RedisBus({ url: redis.url });
    const admin = new Redis(redis.url, { protocol: 2 });
    const seen: Finding[] = [];
    const following = bus.follow({ swarms: [swarm], name: 'auditor' }).subscribe((f) => seen.push(f));
    const workers = new Workers(redis.url, swarm, 'work', [
      '--handler',
      `${FIXTURES}/handlers.mjs#work`,
      '--concurrency',
      '8',
      '--lease-ms',
      '3000',
    ]);
    try {
      const ids = await postTasks(bus, swarm, 'work', TOTAL);
      workers.start(3);
      const findings = async () => (await bus.status(swarm)).findings;
      await until(
        async () => (await findings()) >= 1_500,
        () => '1,500 findings',
        UNDER_LOAD,
      );
      // Every client but this admin connection: workers' command, blocking and pub/sub connections,
      // and this test's own bus.
      const killed =
        Number(await admin.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes')) +
        Number(await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub', 'SKIPME', 'yes'));
      const afterKill = await findings();
      const killResumeMs = await until(
        async () => (await findings()) > afterKill + 500,
        () => 'progress after CLIENT KILL',
        UNDER_LOAD,
      );
      await until(
        async () => (await findings()) >= 4_000,
        () => '4,000 findings',
        UNDER_LOAD,
      );
      // Frozen: connections stay open, nothing answers, for longer than BLOCK (1 s) + watchdog (3 s).
      redis.server.pause();
      await sleep(6_000);
      redis.server.resume();
      const resumedAt = Date.now();
      const atResume = await findings();
      const stopResumeMs = await until(
        async () => (await findings()) > atResume + 500 || (await findings()) >= TOTAL,
        () => 'progress after SIGCONT',
        UNDER_LOAD,
      );
      await until(
        async () => (await openTasks(bus, swarm)) === 0,
        () => 'every task settled',
        UNDER_LOAD,
      );
      const stored = await allFindings(bus, swarm);
      await until(
        () => seen.length >= stored.length,
        () => `the subscriber (${seen.length}/${stored.length})`,
        UNDER_LOAD,
      );
      const result = await ledger(bus, swarm, ids);
      const seenIds = new Set(seen.map((f) => f.id));
      const subscriberGaps = stored.filter((f) => !seenIds.has(f.id)).length;
      report('dropped connections', {
        ...result,
        clientsKilled: killed,
        killResumeMs,
        pausedMs: 6_000,
        stopResumeMs,
        settledAfterResumeMs: Date.now() - resumedAt,
        subscriberGaps,
        subscriberRepeats: seen.length - seenIds.size,
      });
      expect(killed).toBeGreaterThanOrEqual(3);
      expect(result).toEqual({
        tasks: TOTAL,
        findings: TOTAL,
        duplicates: 0,
        lost: 0,
        deadLetters: 0,
        open: 0,
      });
      expect(subscriberGaps).toBe(0);
      // Every worker is still alive and claiming: none is wedged on a dead connection.
      expect(workers.all.every((w) => w.child.exitCode === null)).toBe(true);
      const { id } = await bus.post(swarm, 'work', { data: { i: -1 } });
      await until(
        async () => (await bus.readFindings(swarm, { count: 100_000 })).some((f) => f.taskId === id),
        () => 'a task posted afterwards',
        UNDER_LOAD,
      );
    } finally {
      following.unsubscribe();
      await workers.stopAll();
      admin.disconnect();
      await bus.close();
    }
  });
});
