import { setTimeout as sleep } from 'node:timers/promises';
import { RedisBus } from '@swarm/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useRedisServer } from '../support/redis-server';
import { until } from '../support/until';
import { FIXTURES, ledger, openTasks, report, UNDER_LOAD, Workers } from './support';

const flags = (handler: string, ...more: string[]) => [
  '--handler',
  `${FIXTURES}/handlers.mjs#${handler}`,
  ...more,
];
const starts = (stderr: string) => [...stderr.matchAll(/^START (\S+)$/gm)].map((m) => m[1] as string);

/** Issue #5: a handler slower than its lease, a poison task, and SIGTERM under load. */
describe('workers under trying conditions (real processes)', () => {
  const redis = useRedisServer();
  let bus: RedisBus;
  beforeAll(async () => {
    bus = new RedisBus({ url: redis.url });
  });
  afterAll(async () => {
    await bus.close();
  });

  it('a live handler running 5x past its lease is never redelivered: one execution, one finding', async () => {
    const swarm = 'slow';
    const workers = new Workers(
      redis.url,
      swarm,
      'slow',
      flags('slow', '--concurrency', '2', '--lease-ms', '400'),
    );
    try {
      const posted = await bus.postBatch(
        swarm,
        'slow',
        Array.from({ length: 4 }, (_, i) => ({ data: { i, ms: 2_000 } })),
      );
      const ids = posted.map((p) => p.id);
      workers.start(2);
      await until(
        async () => (await openTasks(bus, swarm)) === 0 && (await bus.status(swarm)).findings >= 4,
        () => 'the slow tasks',
        UNDER_LOAD,
      );
      await sleep(1_000); // a redelivery would show up here
      const executions = workers.all.flatMap((w) => starts(w.stderr));
      const result = await ledger(bus, swarm, ids);
      report('slow handler past its lease', {
        ...result,
        leaseMs: 400,
        handlerMs: 2_000,
        executions: executions.length,
      });
      expect(executions.sort()).toEqual([...ids].sort());
      expect(result).toMatchObject({ findings: 4, duplicates: 0, lost: 0, deadLetters: 0, open: 0 });
      expect((await bus.readFindings(swarm)).every((f) => f.attempt === 1)).toBe(true);
    } finally {
      await workers.stopAll();
    }
  });

  it('a poison task is dead-lettered after maxAttempts with its error history; the other 1,000 flow', async () => {
    const swarm = 'poison';
    const workers = new Workers(
      redis.url,
      swarm,
      'work',
      flags('poison', '--concurrency', '8', '--max-attempts', '3'),
    );
    try {
      const inputs = Array.from({ length: 1_003 }, (_, i) => ({ data: { i, poison: i % 334 === 100 } }));
      const ids = (await bus.postBatch(swarm, 'work', inputs)).map((p) => p.id);
      const poisoned = inputs.filter((t) => t.data.poison).length;
      workers.start(2);
      await until(
        async () => (await openTasks(bus, swarm)) === 0 && (await bus.deadLetters(swarm)).length >= poisoned,
        () => 'the poison to be dead-lettered',
        UNDER_LOAD,
      );
      const dead = await bus.deadLetters(swarm);
      const result = await ledger(bus, swarm, ids);
      report('poison task', {
        ...result,
        poisoned,
        attemptsEach: dead.map((d) => d.errors.length).join('/'),
      });
      expect(result).toMatchObject({
        findings: 1_003 - poisoned,
        duplicates: 0,
        lost: 0,
        deadLetters: poisoned,
        open: 0,
      });
      for (const letter of dead) {
        expect(letter.reason).toMatch(/^failed 3 of 3 attempts: poison task \d+ cannot be processed$/);
        expect(letter.errors.map((e) => e.attempt)).toEqual([1, 2, 3]);
        expect(letter.errors.every((e) => /poison task/.test(e.message))).toBe(true);
      }
    } finally {
      await workers.stopAll();
    }
  });

  it('SIGTERM under load: the stopped worker finishes what it holds and exits 0; nothing lost, nothing twice', async () => {
    const swarm = 'drain';
    const workers = new Workers(
      redis.url,
      swarm,
      'slow',
      flags('slow', '--concurrency', '4', '--lease-ms', '5000'),
    );
    try {
      const ids = (
        await bus.postBatch(
          swarm,
          'slow',
          Array.from({ length: 120 }, (_, i) => ({ data: { i, ms: 250 } })),
        )
      ).map((p) => p.id);
      const [stopped] = workers.start(2);
      if (!stopped) throw new Error('no worker');
      await until(
        async () => (await bus.status(swarm)).findings >= 20,
        () => '20 findings',
        UNDER_LOAD,
      );
      const inFlight = starts(stopped.stderr).length;
      stopped.child.kill('SIGTERM');
      const code = await stopped.exited;
      const summary = /(\d+) completed, (\d+) failed/.exec(stopped.stdout);
      await until(
        async () => (await openTasks(bus, swarm)) === 0 && (await bus.status(swarm)).findings >= 120,
        () => 'the rest, by the other worker',
        UNDER_LOAD,
      );
      const result = await ledger(bus, swarm, ids);
      const executions = workers.all.flatMap((w) => starts(w.stderr));
      report('SIGTERM under load', {
        ...result,
        startedByStoppedWorker: starts(stopped.stderr).length,
        startedBeforeSignal: inFlight,
        completedByStoppedWorker: summary?.[1] ?? '?',
        executions: executions.length,
      });
      expect(code).toBe(0);
      // What it had started, it finished: every START of the stopped worker has its finding.
      expect(Number(summary?.[1])).toBe(starts(stopped.stderr).length);
      expect(executions).toHaveLength(120);
      expect(result).toEqual({ tasks: 120, findings: 120, duplicates: 0, lost: 0, deadLetters: 0, open: 0 });
    } finally {
      await workers.stopAll();
    }
  });
});
