import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { RedisBus } from '@swarm/core';
import { afterEach, describe, expect, it } from 'vitest';
import { useRedisServer } from '../support/redis-server';
import { FIXTURES, poolSpec, until, usePools } from './helpers';

/**
 * A worker process killed mid-task loses nothing: its lease lapses, another pool reclaims the
 * task and completes it, and the task has exactly one finding.
 */
describe('a worker process killed mid-task', () => {
  const redis = useRedisServer();
  const rig = usePools(() => new RedisBus({ url: redis.url }));
  let child: ChildProcess | undefined;

  afterEach(() => {
    child?.kill('SIGKILL');
  });

  it('is replaced by another pool that completes its task exactly once', async () => {
    const { bus, swarm } = rig;
    const { id } = await bus.post(swarm, 'slow', { description: 'survive a crash' });

    const worker = spawn(
      process.execPath,
      ['--import', 'tsx', join(FIXTURES, 'crash-pool.ts'), redis.url, swarm],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child = worker;
    let output = '';
    worker.stdout.on('data', (d: Buffer) => {
      output += d.toString();
    });
    worker.stderr.on('data', (d: Buffer) => {
      output += d.toString();
    });
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    await until(
      () => output.includes(`started ${id}`),
      () => `the worker process to start the task; it printed:\n${output}`,
      20_000,
    );

    worker.kill('SIGKILL');
    await exited;

    const rescuer = rig.start(
      poolSpec({ type: 'slow', handler: { module: 'handlers/slow.mjs' }, leaseMs: 500 }),
    );
    await until(async () => (await bus.readFindings(swarm)).length === 1, 'the reclaimed task to complete');
    // Give a stray second completion the chance to show up; there must be none.
    await sleep(300);
    const findings = (await bus.readFindings(swarm)).filter((f) => f.taskId === id);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ summary: 'completed on attempt 2', data: { pid: process.pid } });
    expect(rescuer.stats).toMatchObject({ completed: 1, failed: 0 });
    expect(await bus.deadLetters(swarm)).toEqual([]);
    expect((await bus.status(swarm)).types).toMatchObject([
      { type: 'slow', waiting: 0, inFlight: 0, delayed: 0 },
    ]);
  });
});
