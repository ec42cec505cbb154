import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { RedisBus } from '@swarm/core';
import { afterEach, describe, expect, it } from 'vitest';
import { useRedisServer } from '../support/redis-server';
import { findings, LlmRig, llmPoolSpec, providersOf, uniqueSwarm, until } from './helpers';

/**
 * A worker SIGKILLed in the middle of a model call holds a reservation nobody will settle: the
 * task's next delivery (the same stream entry, reclaimed) reserves under the same holder, which
 * replaces it, so the budget holds only what live calls hold.
 */
describe('an llm worker process killed mid-call', () => {
  const redis = useRedisServer();
  let child: ChildProcess | undefined;
  const rig = new LlmRig();
  const buses: RedisBus[] = [];

  afterEach(async () => {
    child?.kill('SIGKILL');
    await rig.stop();
    await Promise.all(buses.splice(0).map((b) => b.close()));
  });

  it('has its reservation replaced at reclaim (counted at its worst case), and its task answered once', async () => {
    const swarm = uniqueSwarm();
    const bus = new RedisBus({ url: redis.url });
    buses.push(bus);
    // The first request stalls (the worker is killed during it); the rescuer's is answered.
    const fake = await rig.vendor({ kind: 'anthropic', script: [{ stall: true }] });
    const { id } = await bus.post(swarm, 'ask', { description: 'survive a crash' });

    const worker = spawn(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, 'fixtures/llm-pool.ts'), redis.url, swarm, fake.url],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FAKE_KEY: fake.apiKey } },
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
      () => fake.counts.requests === 1,
      () => `the worker process to call the model; it printed:\n${output}`,
      20_000,
    );
    const held = (await bus.ledger.budgets(swarm)).find((b) => b.name === 'swarm');
    expect(held?.heldUsd).toBeGreaterThan(0);
    const deadWorstCase = held?.heldUsd ?? 0;

    worker.kill('SIGKILL');
    await exited;

    await rig.pool(bus, swarm, llmPoolSpec({ model: 'anthropic:claude-haiku-4-5' }, { leaseMs: 1_000 }), {
      providers: providersOf({ anthropic: fake }),
      swarmBudget: { usd: 1 },
    });
    const [finding] = await findings(bus, swarm, 1, 20_000);
    expect(finding).toMatchObject({ taskId: id, attempt: 2 });
    expect(finding?.usage?.calls.map((c) => c.outcome)).toEqual(['answered']);
    // A stray second completion would show up here; there must be none.
    await sleep(300);
    expect(await bus.readFindings(swarm)).toHaveLength(1);
    expect(await bus.deadLetters(swarm)).toEqual([]);
    // Nothing is held: the dead worker's reservation was replaced, then settled by the rescuer. The
    // dead worker's call was sent, so its hold counts as spent at its worst case, beside the
    // rescuer's real cost: a budget counts too much rather than too little.
    const after = (await bus.ledger.budgets(swarm)).find((b) => b.name === 'swarm');
    expect(after).toMatchObject({ heldUsd: 0, heldTokens: 0 });
    expect(after?.spentUsd).toBeCloseTo(deadWorstCase + (finding?.usage?.costUsd ?? 0), 12);
    expect(fake.counts.requests).toBe(2);
  });
});
