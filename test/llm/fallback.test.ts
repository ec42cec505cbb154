import { RedisBus } from '@swarm/core';
import type { FakeReply, FakeVendor } from '@swarm/worker/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { useRedisServer } from '../support/redis-server';
import { findings, LlmRig, llmPoolSpec, providersOf, uniqueSwarm, until } from './helpers';

const FIRST = 'anthropic:claude-haiku-4-5';
const SECOND = 'openai:gpt-4.1-mini';

describe('an llm pool falls back to the next model', () => {
  const redis = useRedisServer();
  let bus: RedisBus;
  let swarm: string;
  let second: FakeVendor;
  const rig = new LlmRig();
  const buses: RedisBus[] = [];

  beforeEach(async () => {
    bus = new RedisBus({ url: redis.url });
    buses.push(bus);
    swarm = uniqueSwarm();
    second = await rig.vendor({ kind: 'openai' });
  });
  afterEach(async () => {
    await rig.stop();
    await Promise.all(buses.splice(0).map((b) => b.close()));
  });

  /** A pool whose first model's vendor answers every request with `reply`. */
  async function poolWithFailingFirst(reply: FakeReply, pool: Record<string, unknown> = {}) {
    const first = await rig.vendor({ kind: 'anthropic', script: () => reply });
    await rig.pool(bus, swarm, llmPoolSpec({ model: FIRST, fallback: [SECOND] }, pool), {
      providers: providersOf({ anthropic: first, openai: second }),
    });
    return first;
  }

  it.each([
    ['a 529 (overloaded)', { error: 529 }, /529/],
    ['a 500', { error: 500 }, /500/],
    [
      'a stream cut mid-way',
      { text: 'one two three four five six', cut: { afterChunks: 2 } },
      /stream broke/,
    ],
    [
      'a stream that ends cleanly without its final event',
      { text: 'one two three four five six', cut: { afterChunks: 2, clean: true } },
      /ended before its final event/,
    ],
    [
      'an error event mid-stream',
      { text: 'one two three four five six', streamError: { afterChunks: 2 } },
      /stream error/,
    ],
  ] satisfies [string, FakeReply, RegExp][])(
    'on %s: the fallback’s answer is the finding, the failed call is in its calls',
    async (_name, reply, error) => {
      await poolWithFailingFirst(reply);
      await bus.post(swarm, 'ask', { description: 'question' });
      const [finding] = await findings(bus, swarm, 1);
      expect(finding?.summary).toMatch(/^echo: /);
      expect(finding?.summary).not.toContain('one two');
      expect(finding?.usage).toMatchObject({ provider: 'openai', model: 'gpt-4.1-mini' });
      const [failed, answered] = finding?.usage?.calls ?? [];
      expect(failed).toMatchObject({ provider: 'anthropic', outcome: 'failed' });
      expect(failed?.error).toMatch(error);
      expect(answered).toMatchObject({ provider: 'openai', outcome: 'answered' });
      expect(finding?.usage?.costUsd).toBeCloseTo((failed?.costUsd ?? 0) + (answered?.costUsd ?? 0), 12);
      expect(await bus.deadLetters(swarm)).toEqual([]);
    },
  );

  /** What a reservation against `vendor` gets from another process (another bus) right now. */
  const probeFromAnotherProcess = async (vendor: string) => {
    const other = new RedisBus({ url: redis.url });
    buses.push(other);
    return other.ledger.reserve(swarm, {
      holder: 'probe',
      usd: 0,
      tokens: 0,
      budgets: [],
      rates: [{ name: vendor }],
      holdMs: 1_000,
    });
  };
  it('costs a call cut mid-answer from the prompt and the text it sent', async () => {
    await poolWithFailingFirst({ text: 'one two three four five six', cut: { afterChunks: 2 } });
    await bus.post(swarm, 'ask', { description: 'question' });
    const [finding] = await findings(bus, swarm, 1);
    const [cut] = finding?.usage?.calls ?? [];
    expect(cut).toMatchObject({ outcome: 'failed', estimated: true });
    expect(cut?.inputTokens).toBeGreaterThan(0);
    expect(cut?.outputTokens).toBeGreaterThan(0);
    expect(cut?.costUsd).toBeGreaterThan(0);
  });

  it('on a call that stalls past its time: the fallback answers', async () => {
    // Two models share the pool's 2 s: a call gets 1 s.
    const first = await poolWithFailingFirst({ stall: true }, { timeoutMs: 2_000 });
    await bus.post(swarm, 'ask', { description: 'question' });
    const [finding] = await findings(bus, swarm, 1);
    expect(finding?.usage?.provider).toBe('openai');
    expect(finding?.usage?.calls[0]).toMatchObject({ provider: 'anthropic', outcome: 'failed' });
    expect(finding?.usage?.calls[0]?.error).toMatch(/no answer within 1000 ms/);
    await until(() => first.counts.aborted === 1, 'the stalled request to be given up');
  });

  it('on 429s: tasks are answered by the fallback, nothing is dead-lettered, and every process waits out Retry-After', async () => {
    const first = await poolWithFailingFirst({ error: 429, retryAfterS: 30 }, { concurrency: 2 });
    for (let i = 0; i < 6; i++) await bus.post(swarm, 'ask', { description: `q${i}` });
    const found = await findings(bus, swarm, 6);
    expect(found.every((f) => f.usage?.provider === 'openai')).toBe(true);
    expect(await bus.deadLetters(swarm)).toEqual([]);
    // The vendor asked for 30 s: after its first 429s, the pool stops asking it.
    expect(first.counts.requests).toBeLessThanOrEqual(2);
    // Another process (another bus) is held up too.
    const probe = await probeFromAnotherProcess('anthropic');
    expect(probe).toMatchObject({ outcome: 'wait', limit: 'anthropic' });
    expect((probe as { waitMs: number }).waitMs).toBeGreaterThan(20_000);
  });

  it('cools a vendor that keeps failing down for every process, after three failures in a row', async () => {
    const first = await poolWithFailingFirst({ error: 500 });
    const answer = async (i: number) => {
      await bus.post(swarm, 'ask', { description: `q${i}` });
      return (await findings(bus, swarm, i + 1)).at(-1);
    };
    for (let i = 0; i < 3; i++) await answer(i);
    // Another process (another bus) is held up now.
    const probe = await probeFromAnotherProcess('anthropic');
    expect(probe).toMatchObject({ outcome: 'wait', limit: 'anthropic' });
    // And the pool leaves the vendor alone: the next task goes straight to the fallback.
    expect((await answer(3))?.usage?.calls.map((c) => c.provider)).toEqual(['openai']);
    expect(first.counts.requests).toBe(3);
  });

  it('defers, not fails, a task when every model is rate-limited for longer than it waits in place', async () => {
    // Retry-After past the 5 s a task waits out in hand: it goes back, not failed.
    const first = await rig.vendor({ kind: 'anthropic', script: () => ({ error: 429, retryAfterS: 6 }) });
    const limited = await rig.vendor({ kind: 'openai', script: [{ error: 429, retryAfterS: 6 }] });
    const pool = await rig.pool(bus, swarm, llmPoolSpec({ model: FIRST, fallback: [SECOND] }), {
      providers: providersOf({ anthropic: first, openai: limited }),
    });
    await bus.post(swarm, 'ask', { description: 'question' });
    const [finding] = await findings(bus, swarm, 1, 30_000);
    expect(finding?.usage?.provider).toBe('openai');
    expect(finding?.attempt).toBe(1);
    expect(pool.stats).toMatchObject({ completed: 1, failed: 0 });
    expect(pool.stats.deferred).toBeGreaterThanOrEqual(1);
  });

  it('with every vendor down: each attempt fails naming each vendor’s error, then the task is dead-lettered', async () => {
    const first = await rig.vendor({ kind: 'anthropic', script: () => ({ error: 529 }) });
    const down = await rig.vendor({ kind: 'openai', script: () => ({ error: 500 }) });
    await rig.pool(bus, swarm, llmPoolSpec({ model: FIRST, fallback: [SECOND] }, { maxAttempts: 2 }), {
      providers: providersOf({ anthropic: first, openai: down }),
    });
    await bus.post(swarm, 'ask', { description: 'question' });
    await until(async () => (await bus.deadLetters(swarm)).length === 1, 'the dead letter');
    const [letter] = await bus.deadLetters(swarm);
    expect(letter?.errors).toHaveLength(2);
    for (const error of letter?.errors ?? []) {
      expect(error.message).toMatch(/^every model failed: /);
      expect(error.message).toMatch(/anthropic:claude-haiku-4-5: 529 /);
      expect(error.message).toMatch(/openai:gpt-4\.1-mini: 500 /);
    }
    expect(await bus.readFindings(swarm)).toEqual([]);
    // Each failed call is in the history with what it cost, model by model.
    expect(letter?.errors.map((e) => e.calls?.map((c) => [c.model, c.outcome]))).toEqual([
      [
        ['claude-haiku-4-5', 'failed'],
        ['gpt-4.1-mini', 'failed'],
      ],
      [
        ['claude-haiku-4-5', 'failed'],
        ['gpt-4.1-mini', 'failed'],
      ],
    ]);
  });

  it('counts every call the task took on its finding: the failed attempts’ calls as well as the answering one', async () => {
    const flaky = await rig.vendor({
      kind: 'anthropic',
      script: (_request, n) => (n === 0 ? { cut: { afterChunks: 2 } } : { text: 'second time lucky' }),
    });
    await rig.pool(bus, swarm, llmPoolSpec({ model: FIRST }, { maxAttempts: 3 }), {
      providers: providersOf({ anthropic: flaky }),
    });
    await bus.post(swarm, 'ask', { description: 'question' });
    await until(async () => (await bus.readFindings(swarm)).length === 1, 'the finding');
    const [finding] = await bus.readFindings(swarm);
    expect(finding?.attempt).toBe(2);
    const calls = finding?.usage?.calls ?? [];
    expect(calls.map((c) => c.outcome)).toEqual(['failed', 'answered']);
    expect(calls[0]?.costUsd).toBeGreaterThan(0);
    expect(finding?.usage?.costUsd).toBeCloseTo(
      calls.reduce((sum, c) => sum + c.costUsd, 0),
      12,
    );
  });
});
