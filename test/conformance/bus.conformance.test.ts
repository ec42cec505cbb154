import {
  type Bus,
  type Delivery,
  type Finding,
  InvalidNameError,
  MALFORMED_FINDING_TYPE,
  PayloadTooLargeError,
  Slots,
  SwarmError,
} from '@swarm/core';
import { Subject, type Subscription } from 'rxjs';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { clusterEnv, memoryEnv, redisEnv, type TransportEnv, uniqueSwarm, until } from './transports';

/** Collects what a consumer hands out, without settling anything. */
function collect(bus: Bus, swarm: string, type: string, options: Parameters<Bus['consume']>[2] = {}) {
  const deliveries: Delivery[] = [];
  const subscription = bus
    .consume(swarm, type, { blockMs: 50, ...options })
    .subscribe((d) => deliveries.push(d));
  return { deliveries, subscription };
}

function watchFindings(bus: Bus, swarm: string, from: Parameters<Bus['findings$']>[1] = {}) {
  const findings: Finding[] = [];
  const subscription = bus.findings$(swarm, from).subscribe((f) => findings.push(f));
  return { findings, subscription };
}

describe.each([
  ['MemoryBus', memoryEnv()],
  ['RedisBus', redisEnv()],
  ['RedisBus on a cluster', clusterEnv()],
])('%s conformance', (_name, factory) => {
  let env: TransportEnv;
  let swarm: string;
  const subscriptions: Subscription[] = [];
  const track = <T extends { subscription: Subscription }>(x: T): T => {
    subscriptions.push(x.subscription);
    return x;
  };

  afterAll(() => factory.dispose());
  beforeEach(async () => {
    env = await factory.create();
    swarm = uniqueSwarm();
  });
  afterEach(async () => {
    for (const s of subscriptions.splice(0)) s.unsubscribe();
    await env.teardown();
  });

  describe('delivery', () => {
    it('delivers a posted task with every field', async () => {
      const bus = env.bus();
      const posted = await bus.post(swarm, 'echo', {
        description: 'say hi',
        data: { n: 1, s: 'é✓' },
        parent: 'shard-1',
        context: 'abc',
      });
      const { deliveries } = track(collect(bus, swarm, 'echo'));
      await until(env, () => deliveries.length === 1);
      const task = deliveries[0]?.task;
      expect(task).toMatchObject({
        id: posted.id,
        swarm,
        type: 'echo',
        description: 'say hi',
        data: { n: 1, s: 'é✓' },
        parent: 'shard-1',
        context: 'abc',
        attempt: 1,
        errors: [],
      });
      expect(task?.createdAt).toBeGreaterThan(0);
    });

    it('delivers a batch in order', async () => {
      const bus = env.bus();
      const posted = await bus.postBatch(
        swarm,
        'echo',
        Array.from({ length: 20 }, (_, i) => ({ data: i })),
      );
      const { deliveries } = track(collect(bus, swarm, 'echo', { concurrency: 50 }));
      await until(env, () => deliveries.length === 20);
      expect(deliveries.map((d) => d.task.id)).toEqual(posted.map((p) => p.id));
      expect(deliveries.map((d) => d.task.data)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    });

    it('posts once per idempotency key', async () => {
      const bus = env.bus();
      const first = await bus.post(swarm, 'echo', { idempotencyKey: 'k1', data: 1 });
      const second = await bus.post(swarm, 'echo', { idempotencyKey: 'k1', data: 2 });
      expect(first.duplicate).toBe(false);
      expect(first.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(second).toEqual({ id: first.id, duplicate: true });
      const { deliveries } = track(collect(bus, swarm, 'echo', { concurrency: 5 }));
      await until(env, () => deliveries.length >= 1);
      await env.elapse(200);
      expect(deliveries.map((d) => d.task.data)).toEqual([1]);
      expect(deliveries[0]?.task.id).toBe(first.id);
    });

    it('never holds more than `concurrency` unsettled deliveries', async () => {
      const bus = env.bus();
      await bus.postBatch(
        swarm,
        'echo',
        Array.from({ length: 10 }, (_, i) => ({ data: i })),
      );
      const { deliveries } = track(collect(bus, swarm, 'echo', { concurrency: 3 }));
      await until(env, () => deliveries.length === 3);
      await env.elapse(200);
      expect(deliveries).toHaveLength(3);
      await deliveries[0]?.complete({ summary: 'done' });
      await until(env, () => deliveries.length === 4);
      await env.elapse(200);
      expect(deliveries).toHaveLength(4);
    });

    it('keeps renewing running deliveries after unsubscribe, so a drain can finish them', async () => {
      const bus = env.bus();
      await bus.post(swarm, 'echo', {});
      const { deliveries, subscription } = collect(bus, swarm, 'echo', { leaseMs: 300 });
      await until(env, () => deliveries.length === 1);
      subscription.unsubscribe();
      const other = track(collect(env.bus(), swarm, 'echo', { leaseMs: 300 }));
      await env.elapse(1_000);
      expect(other.deliveries).toHaveLength(0);
      expect(await deliveries[0]?.complete({ summary: 'late but mine' })).toMatchObject({ duplicate: false });
    });
  });

  describe('leases', () => {
    it('reclaims a task whose worker died', async () => {
      const dying = env.bus();
      await dying.post(swarm, 'echo', { data: 'x' });
      const first = collect(dying, swarm, 'echo', { leaseMs: 300 });
      await until(env, () => first.deliveries.length === 1);
      await dying.close();
      const survivor = env.bus();
      const second = track(collect(survivor, swarm, 'echo', { leaseMs: 300 }));
      await until(env, () => second.deliveries.length === 1);
      expect(second.deliveries[0]?.task).toMatchObject({ data: 'x', attempt: 2 });
      const { findings } = track(watchFindings(survivor, swarm));
      await second.deliveries[0]?.complete({ summary: 'recovered' });
      await until(env, () => findings.length === 1);
      expect(findings[0]).toMatchObject({ summary: 'recovered', attempt: 2 });
    });

    it('never redelivers a task whose live worker runs past its lease', async () => {
      const bus = env.bus();
      await bus.post(swarm, 'echo', {});
      const slow = track(collect(bus, swarm, 'echo', { leaseMs: 200 }));
      await until(env, () => slow.deliveries.length === 1);
      const other = track(collect(env.bus(), swarm, 'echo', { leaseMs: 200 }));
      await env.elapse(1_000);
      expect(other.deliveries).toHaveLength(0);
      expect(slow.deliveries[0]?.signal.aborted).toBe(false);
      expect(await slow.deliveries[0]?.complete({ summary: 'slow' })).toMatchObject({ duplicate: false });
    });

    it('writes one finding when a stalled worker completes after a reclaim', async () => {
      const bus = env.bus();
      await bus.post(swarm, 'echo', {});
      // The stalled worker renews rarely (long lease) and stops: the other reclaims after 100 ms idle.
      const stalled = track(collect(bus, swarm, 'echo', { leaseMs: 60_000 }));
      await until(env, () => stalled.deliveries.length === 1);
      await env.stallConsumer(swarm, 'echo', stalled.deliveries[0]?.consumer ?? '', 100);
      const fast = track(collect(env.bus(), swarm, 'echo', { leaseMs: 100 }));
      await until(env, () => fast.deliveries.length === 1);
      expect(await fast.deliveries[0]?.complete({ summary: 'fast' })).toMatchObject({ duplicate: false });
      expect(await stalled.deliveries[0]?.complete({ summary: 'stalled' })).toEqual({ duplicate: true });
      const { findings } = track(watchFindings(bus, swarm));
      await until(env, () => findings.length === 1);
      await env.elapse(200);
      expect(findings.map((f) => f.summary)).toEqual(['fast']);
    });

    it('does not let a worker whose lease was reclaimed fail the task the new owner runs', async () => {
      const bus = env.bus();
      await bus.post(swarm, 'echo', {});
      const zombie = track(collect(bus, swarm, 'echo', { leaseMs: 60_000, maxAttempts: 1 }));
      await until(env, () => zombie.deliveries.length === 1);
      await env.stallConsumer(swarm, 'echo', zombie.deliveries[0]?.consumer ?? '', 100);
      const owner = track(collect(env.bus(), swarm, 'echo', { leaseMs: 100 }));
      await until(env, () => owner.deliveries.length === 1);
      expect(await zombie.deliveries[0]?.fail(new Error('gave up'))).toEqual({ outcome: 'lost' });
      expect(await zombie.deliveries[0]?.extend()).toBe(false);
      expect(await owner.deliveries[0]?.complete({ summary: 'done' })).toMatchObject({ duplicate: false });
      expect(await bus.deadLetters(swarm)).toHaveLength(0);
      expect((await bus.readFindings(swarm)).map((f) => f.summary)).toEqual(['done']);
    });

    it('keeps a live consumer’s lease after pruning forgot it while it waited for work', async () => {
      const bus = env.bus();
      const patient = track(collect(bus, swarm, 'echo', { leaseMs: 60_000, consumer: 'patient' }));
      await env.elapse(100);
      // Before Redis 7.2 an empty read leaves a consumer looking idle, and pruning drops its record.
      await env.forgetLease(swarm, 'echo', 'patient');
      await bus.post(swarm, 'echo', {});
      await until(env, () => patient.deliveries.length === 1);
      const hasty = track(collect(env.bus(), swarm, 'echo', { leaseMs: 100 }));
      await env.elapse(1_000);
      expect(hasty.deliveries).toHaveLength(0);
      expect(await patient.deliveries[0]?.complete({ summary: 'mine' })).toMatchObject({ duplicate: false });
    });

    it('reclaims an expired task behind many live ones', async () => {
      const bus = env.bus();
      await bus.postBatch(
        swarm,
        'echo',
        Array.from({ length: 30 }, (_, i) => ({ data: i })),
      );
      // 30 live deliveries first in the pending list, renewed by their consumer.
      const live = track(collect(bus, swarm, 'echo', { leaseMs: 300, concurrency: 30 }));
      await until(env, () => live.deliveries.length === 30);
      await bus.post(swarm, 'echo', { data: 'orphan' });
      const dying = env.bus();
      const orphan = collect(dying, swarm, 'echo', { leaseMs: 300 });
      await until(env, () => orphan.deliveries.length === 1);
      await dying.close();
      const rescuer = track(collect(env.bus(), swarm, 'echo', { leaseMs: 300, concurrency: 1 }));
      await until(env, () => rescuer.deliveries.length === 1);
      expect(rescuer.deliveries[0]?.task).toMatchObject({ data: 'orphan', attempt: 2 });
    });

    it('aborts the signal of a delivery whose lease another consumer took', async () => {
      const bus = env.bus();
      await bus.post(swarm, 'echo', {});
      const stalled = track(collect(bus, swarm, 'echo', { leaseMs: 60_000 }));
      await until(env, () => stalled.deliveries.length === 1);
      await env.stallConsumer(swarm, 'echo', stalled.deliveries[0]?.consumer ?? '', 100);
      const fast = track(collect(env.bus(), swarm, 'echo', { leaseMs: 100 }));
      await until(env, () => fast.deliveries.length === 1);
      expect(await stalled.deliveries[0]?.extend()).toBe(false);
      expect(stalled.deliveries[0]?.signal.aborted).toBe(true);
    });
  });

  describe('retries and dead letters', () => {
    it('defers a task without failing it: it comes back after the delay at the same attempt', async () => {
      const bus = env.bus();
      await bus.post(swarm, 'echo', { data: 'later' });
      const { deliveries } = track(collect(bus, swarm, 'echo', { leaseMs: 60_000 }));
      await until(env, () => deliveries.length === 1);
      expect(await deliveries[0]?.defer(500)).toBe(true);
      expect((await bus.status(swarm)).types).toMatchObject([{ type: 'echo', delayed: 1, inFlight: 0 }]);
      await until(env, () => deliveries.length === 2);
      expect(deliveries[1]?.task).toMatchObject({ data: 'later', attempt: 1, errors: [] });
      expect(await deliveries[0]?.defer(0)).toBe(false);
    });

    const backoff = { baseMs: 100, maxMs: 1_000 };

    it('retries a failed task with backoff and keeps its error history', async () => {
      const bus = env.bus();
      await bus.post(swarm, 'echo', { data: 7 });
      const { deliveries } = track(collect(bus, swarm, 'echo', { backoff, maxAttempts: 3 }));
      await until(env, () => deliveries.length === 1);
      const result = await deliveries[0]?.fail(new Error('boom'));
      expect(result).toMatchObject({ outcome: 'retry', attempt: 2 });
      if (result?.outcome !== 'retry') throw new Error('expected a retry');
      expect(result.delayMs).toBeGreaterThanOrEqual(50);
      expect(result.delayMs).toBeLessThanOrEqual(100);
      await until(env, () => deliveries.length === 2);
      expect(deliveries[1]?.task).toMatchObject({ data: 7, attempt: 2 });
      expect(deliveries[1]?.task.errors).toEqual([expect.objectContaining({ attempt: 1, message: 'boom' })]);
    });

    it('does not hold up a short retry behind a long one', async () => {
      const bus = env.bus();
      await bus.post(swarm, 'echo', { data: 'soon' });
      // A task on its tenth attempt: its next backoff is tens of seconds.
      await env.appendRaw(swarm, 'echo', {
        task: JSON.stringify({ id: 'late', attempt: 10, created: 1, data: 'late' }),
      });
      const { deliveries } = track(
        collect(bus, swarm, 'echo', {
          concurrency: 2,
          maxAttempts: 20,
          backoff: { baseMs: 100, maxMs: 100_000 },
        }),
      );
      await until(env, () => deliveries.length === 2);
      const soon = deliveries.find((d) => d.task.data === 'soon');
      const late = deliveries.find((d) => d.task.data === 'late');
      expect(await soon?.fail(new Error('briefly'))).toMatchObject({ outcome: 'retry' });
      expect(await late?.fail(new Error('for long'))).toMatchObject({ outcome: 'retry' });
      await until(env, () => deliveries.length === 3, 3_000);
      expect(deliveries[2]?.task).toMatchObject({ data: 'soon', attempt: 2 });
    });

    it('dead-letters after maxAttempts, with every error, and retries on request', async () => {
      const bus = env.bus();
      const posted = await bus.post(swarm, 'echo', { data: 'poison' });
      const { deliveries } = track(collect(bus, swarm, 'echo', { backoff, maxAttempts: 2 }));
      await until(env, () => deliveries.length === 1);
      await deliveries[0]?.fail('first');
      await until(env, () => deliveries.length === 2);
      expect(await deliveries[1]?.fail(new TypeError('second'))).toMatchObject({ outcome: 'dead' });
      const dead = await bus.deadLetters(swarm);
      expect(dead).toHaveLength(1);
      expect(dead[0]).toMatchObject({ type: 'echo', task: { id: posted.id, data: 'poison' } });
      expect(dead[0]?.reason).toContain('failed 2 of 2 attempts');
      expect(dead[0]?.errors.map((e) => e.message)).toEqual(['first', 'second']);

      const retried = await bus.retryDeadLetter(swarm, dead[0]?.id as string);
      expect(retried).toMatchObject({ id: posted.id, attempt: 1 });
      expect(await bus.deadLetters(swarm)).toHaveLength(0);
      await until(env, () => deliveries.length === 3);
      expect(deliveries[2]?.task).toMatchObject({ id: posted.id, attempt: 1 });
      await expect(bus.retryDeadLetter(swarm, dead[0]?.id as string)).rejects.toMatchObject({
        code: 'SWARM_DEAD_LETTER_NOT_FOUND',
      });
    });

    it('purges every dead letter and says how many (issue #12)', async () => {
      const bus = env.bus();
      await bus.postBatch(swarm, 'echo', [{ data: 1 }, { data: 2 }, { data: 3 }]);
      const { deliveries } = track(collect(bus, swarm, 'echo', { concurrency: 3, maxAttempts: 1 }));
      await until(env, () => deliveries.length === 3);
      for (const d of deliveries) await d.fail(new Error('poison'), { retry: false });
      expect(await bus.deadLetters(swarm)).toHaveLength(3);
      expect(await env.bus().purgeDeadLetters(swarm)).toBe(3);
      expect(await bus.deadLetters(swarm)).toEqual([]);
      expect((await bus.status(swarm)).deadLetters).toBe(0);
      expect(await bus.purgeDeadLetters(swarm)).toBe(0);
      expect(await bus.purgeDeadLetters(`${swarm}-none`)).toBe(0);
      expect(await bus.swarms()).not.toContain(`${swarm}-none`);
    });

    it('dead-letters at once when the handler says not to retry', async () => {
      const bus = env.bus();
      await bus.post(swarm, 'echo', {});
      const { deliveries } = track(collect(bus, swarm, 'echo', { maxAttempts: 5 }));
      await until(env, () => deliveries.length === 1);
      expect(await deliveries[0]?.fail(new Error('bad input'), { retry: false })).toMatchObject({
        outcome: 'dead',
      });
      expect((await bus.deadLetters(swarm))[0]?.reason).toContain('failed without retry: bad input');
    });

    it('counts crashes as attempts and dead-letters a task that kills every worker', async () => {
      await env.bus().post(swarm, 'echo', { data: 'killer' });
      for (let i = 0; i < 2; i++) {
        const bus = env.bus();
        const { deliveries } = collect(bus, swarm, 'echo', { leaseMs: 150, maxAttempts: 2 });
        await until(env, () => deliveries.length === 1);
        expect(deliveries[0]?.attempt).toBe(i + 1);
        await bus.close();
      }
      const last = env.bus();
      const { deliveries } = track(collect(last, swarm, 'echo', { leaseMs: 150, maxAttempts: 2 }));
      let dead: Awaited<ReturnType<Bus['deadLetters']>> = [];
      for (let waited = 0; dead.length === 0 && waited < 5_000; waited += 100) {
        await env.elapse(100);
        dead = await last.deadLetters(swarm);
      }
      expect(deliveries).toHaveLength(0);
      expect(dead[0]?.reason).toBe('lease expired on attempt 2 of 2');
      expect(dead[0]?.task).toMatchObject({ data: 'killer' });
      expect(dead[0]?.errors.at(-1)?.message).toContain('lease expired');
    });
  });

  describe('findings', () => {
    async function completeAll(bus: Bus, n: number, summary = (i: number) => `f${i}`): Promise<void> {
      await bus.postBatch(
        swarm,
        'echo',
        Array.from({ length: n }, (_, i) => ({ data: i })),
      );
      const { deliveries, subscription } = collect(bus, swarm, 'echo', { concurrency: n });
      await until(env, () => deliveries.length === n);
      for (const d of deliveries)
        await d.complete({ summary: summary(d.task.data as number), data: d.task.data });
      subscription.unsubscribe();
    }

    it('carries every field of a finding', async () => {
      const bus = env.bus();
      const posted = await bus.post(swarm, 'echo', { context: 'ctx-1' });
      const { deliveries } = track(collect(bus, swarm, 'echo', { consumer: 'worker-7' }));
      await until(env, () => deliveries.length === 1);
      const result = await deliveries[0]?.complete({ summary: 'hello', data: { ok: true } });
      const [finding] = await bus.readFindings(swarm);
      expect(finding).toMatchObject({
        id: result && !result.duplicate ? result.findingId : 'missing',
        taskId: posted.id,
        swarm,
        type: 'echo',
        summary: 'hello',
        data: { ok: true },
        workerId: 'worker-7',
        attempt: 1,
        contextVersion: 'ctx-1',
      });
      expect(finding?.createdAt).toBeGreaterThan(0);
    });

    it('hands a live reader the same findings the stream holds', async () => {
      const bus = env.bus();
      const { findings } = track(watchFindings(bus, swarm, { from: 'now' }));
      await env.elapse(50);
      await completeAll(bus, 5);
      await until(env, () => findings.length === 5);
      expect(findings).toEqual(await bus.readFindings(swarm));
    });

    it('carries tags, deduplicated, on stored and live findings', async () => {
      const bus = env.bus();
      const { findings } = track(watchFindings(bus, swarm, { from: 'now' }));
      await env.elapse(50);
      await bus.post(swarm, 'echo', {});
      const { deliveries } = track(collect(bus, swarm, 'echo'));
      await until(env, () => deliveries.length === 1);
      await deliveries[0]?.complete({ summary: 'tagged', tags: ['risk', 'risk', 'auth'] });
      await until(env, () => findings.length === 1);
      expect(findings[0]?.tags).toEqual(['risk', 'auth']);
      expect((await bus.readFindings(swarm))[0]?.tags).toEqual(['risk', 'auth']);
    });

    it('replays from the start, then tails live', async () => {
      const bus = env.bus();
      await completeAll(bus, 3);
      const { findings } = track(watchFindings(bus, swarm, { from: 'start' }));
      await until(env, () => findings.length === 3);
      await completeAll(bus, 2, (i) => `live${i}`);
      await until(env, () => findings.length === 5);
      expect(findings.map((f) => f.summary)).toEqual(['f0', 'f1', 'f2', 'live0', 'live1']);
    });

    it('resumes after a given id with no gap and no duplicate', async () => {
      const bus = env.bus();
      await completeAll(bus, 6);
      const all = await bus.readFindings(swarm);
      const { findings } = track(watchFindings(bus, swarm, { from: all[2]?.id as string }));
      await until(env, () => findings.length === 3);
      await env.elapse(100);
      expect(findings.map((f) => f.id)).toEqual(all.slice(3).map((f) => f.id));
    });

    it("starts at 'now' and at a time", async () => {
      const bus = env.bus();
      await completeAll(bus, 2);
      const now = track(watchFindings(bus, swarm, { from: 'now' }));
      await env.elapse(50);
      const cut = new Date((await bus.readFindings(swarm)).at(-1)?.createdAt ?? 0);
      await env.elapse(20);
      await completeAll(bus, 1, () => 'after');
      await until(env, () => now.findings.length === 1);
      expect(now.findings[0]?.summary).toBe('after');
      const byTime = track(watchFindings(bus, swarm, { from: new Date(cut.getTime() + 5) }));
      await until(env, () => byTime.findings.length === 1);
      await env.elapse(50);
      expect(byTime.findings.map((f) => f.summary)).toEqual(['after']);
    });

    it('takes a foreign finding that has every required key, with absent optional keys defaulted', async () => {
      const bus = env.bus();
      const required = {
        taskId: 't-1',
        type: 'scan',
        summary: 'ok',
        workerId: 'py-1',
        attempt: 2,
        createdAt: 5,
      };
      await env.appendRawFinding(swarm, { finding: JSON.stringify(required) });
      await env.appendRawFinding(swarm, {
        finding: JSON.stringify({
          ...required,
          swarm: 'elsewhere',
          contextVersion: null,
          parent: null,
          tags: null,
        }),
      });
      const read = await bus.readFindings(swarm);
      expect(read).toHaveLength(2);
      for (const finding of read)
        expect(finding).toMatchObject({
          ...required,
          swarm,
          data: null,
          tags: [],
          contextVersion: undefined,
          parent: undefined,
        });
    });

    it.each([
      ['no finding field', { hello: 'world' }, 'no "finding" field', '{"hello":"world"}'],
      ['a finding that is not JSON', { finding: '{nope' }, '"finding" is not valid JSON', '{nope'],
      ['a JSON array', { finding: '[1]' }, '"finding" is not a JSON object', '[1]'],
      [
        'no taskId',
        { finding: '{"type":"scan","summary":"s","workerId":"w","attempt":1,"createdAt":1}' },
        '"taskId" must be a non-empty string',
      ],
      [
        'no summary',
        { finding: '{"taskId":"t","type":"scan","workerId":"w","attempt":1,"createdAt":1}' },
        '"summary" must be a string',
      ],
      [
        'an attempt that is a string',
        { finding: '{"taskId":"t","type":"scan","summary":"s","workerId":"w","attempt":"1","createdAt":1}' },
        '"attempt" must be an integer >= 0',
      ],
      [
        'no createdAt',
        { finding: '{"taskId":"t","type":"scan","summary":"s","workerId":"w","attempt":1}' },
        '"createdAt" must be an integer >= 0',
      ],
      [
        'tags that are not strings',
        {
          finding:
            '{"taskId":"t","type":"scan","summary":"s","workerId":"w","attempt":1,"createdAt":1,"tags":[1]}',
        },
        '"tags" must be an array of strings when present',
      ],
    ])(
      'hands over an entry with %s as a malformed stand-in, in order, live and replayed',
      async (_case, fields, reason, raw?: string) => {
        const bus = env.bus();
        const { findings } = track(watchFindings(bus, swarm, { from: 'start' }));
        await bus.publish(swarm, { type: 'note', summary: 'before' });
        await env.appendRawFinding(swarm, fields);
        await bus.publish(swarm, { type: 'note', summary: 'after' });
        await until(env, () => findings.length === 3);
        const stored = await bus.readFindings(swarm);
        expect(findings).toEqual(stored);
        expect(stored.map((f) => f.type)).toEqual(['note', MALFORMED_FINDING_TYPE, 'note']);
        const [, standIn] = stored;
        expect(standIn).toMatchObject({ swarm, taskId: '', workerId: '', attempt: 0, tags: ['malformed'] });
        expect(standIn?.summary).toBe(`malformed finding entry: ${reason}`);
        expect(standIn?.data).toBe(raw ?? (fields as Record<string, string>).finding);
        expect(standIn?.createdAt).toBe(Number(standIn?.id.split('-')[0]));
      },
    );

    it('keeps findings within the retention bound', async () => {
      const bus = env.bus({ retention: { findings: { maxLen: 5 } } });
      await completeAll(bus, 12);
      const kept = await bus.readFindings(swarm);
      expect(kept).toHaveLength(5);
      expect(kept.map((f) => f.summary).sort()).toEqual(['f10', 'f11', 'f7', 'f8', 'f9']);
    });
  });

  describe('shared slots', () => {
    it('never runs more than its slots across consumers, and hands back what it cannot run without costing an attempt', async () => {
      const bus = env.bus();
      const slots = new Slots(1);
      await bus.postBatch(
        swarm,
        'x',
        Array.from({ length: 5 }, (_, i) => ({ data: i })),
      );
      await bus.postBatch(
        swarm,
        'y',
        Array.from({ length: 5 }, (_, i) => ({ data: i })),
      );
      const running = new Set<Delivery>();
      const done: Delivery[] = [];
      let most = 0;
      const take = (d: Delivery) => {
        running.add(d);
        most = Math.max(most, running.size);
      };
      track({
        subscription: bus.consume(swarm, 'x', { slots, concurrency: 4, blockMs: 20 }).subscribe(take),
      });
      track({
        subscription: bus.consume(swarm, 'y', { slots, concurrency: 4, blockMs: 20 }).subscribe(take),
      });
      while (done.length < 10) {
        await until(env, () => running.size > 0);
        await env.elapse(30);
        for (const d of [...running]) {
          running.delete(d);
          done.push(d);
          await d.complete({ summary: `${d.task.type}${String(d.task.data)}` });
        }
      }
      expect(most).toBe(1);
      expect(done.every((d) => d.task.attempt === 1)).toBe(true);
      const summaries = (await bus.readFindings(swarm)).map((f) => f.summary).sort();
      expect(summaries).toEqual(
        [...['x', 'y'].flatMap((t) => [0, 1, 2, 3, 4].map((i) => `${t}${i}`))].sort(),
      );
    });
  });

  describe('publish and follow', () => {
    const publishAll = async (
      bus: Bus,
      to: string,
      n: number,
      extra: Partial<Parameters<Bus['publish']>[1]> = {},
    ) => {
      for (let i = 0; i < n; i++) await bus.publish(to, { type: 'note', summary: `${to}#${i}`, ...extra });
    };

    it('publishes a finding no task produced, stored and broadcast like any other', async () => {
      const bus = env.bus();
      const { findings } = track(watchFindings(bus, swarm, { from: 'now' }));
      await env.elapse(50);
      const published = await bus.publish(swarm, {
        type: 'summary',
        summary: 'three findings',
        data: { n: 3 },
        parent: 'task-9',
        workerId: 'aggregator',
        tags: ['digest', 'digest'],
      });
      await until(env, () => findings.length === 1);
      expect(findings[0]).toEqual(published);
      expect(await bus.readFindings(swarm)).toEqual([published]);
      expect(published).toMatchObject({
        type: 'summary',
        parent: 'task-9',
        workerId: 'aggregator',
        attempt: 0,
      });
      expect(published.tags).toEqual(['digest']);
      expect(published.taskId).toMatch(/./);
      expect(await bus.lastFindingId(swarm)).toBe(published.id);
    });

    it('merges several swarms, in order per swarm, and filters by type, tag and predicate', async () => {
      const bus = env.bus();
      const [a, b] = [`${swarm}-a`, `${swarm}-b`];
      await publishAll(bus, a, 3, { tags: ['x'] });
      await bus.publish(b, { type: 'other', summary: 'skip: type' });
      await bus.publish(b, { type: 'note', summary: 'skip: tag', tags: ['y'] });
      await bus.publish(b, { type: 'note', summary: 'skip: where', tags: ['x'] });
      await publishAll(bus, b, 2, { tags: ['x', 'z'] });
      const got: Finding[] = [];
      track({
        subscription: bus
          .follow({
            swarms: [a, b],
            types: ['note'],
            tags: ['x'],
            where: (f) => !f.summary.startsWith('skip'),
          })
          .subscribe((f) => got.push(f)),
      });
      await until(env, () => got.length === 5);
      await publishAll(bus, a, 1, { tags: ['x'], summary: 'live' });
      await until(env, () => got.length === 6);
      await env.elapse(50);
      const of = (s: string) => got.filter((f) => f.swarm === s).map((f) => f.summary);
      expect(of(a)).toEqual([`${a}#0`, `${a}#1`, `${a}#2`, 'live']);
      expect(of(b)).toEqual([`${b}#0`, `${b}#1`]);
    });

    it('follows a pattern, opening a swarm that appears later at its first broadcast', async () => {
      const bus = env.bus();
      await publishAll(bus, `${swarm}-one`, 2);
      await publishAll(bus, `other${swarm}`, 1);
      const got: Finding[] = [];
      track({
        subscription: bus
          .follow({ swarms: [`${swarm}-*`], from: 'now', discoverEveryMs: 600_000 })
          .subscribe((f) => got.push(f)),
      });
      await env.elapse(100);
      await publishAll(bus, `${swarm}-one`, 1);
      await publishAll(bus, `${swarm}-two`, 2);
      await until(env, () => got.length === 3);
      await env.elapse(100);
      expect(got.map((f) => f.summary).sort()).toEqual([
        `${swarm}-one#0`,
        `${swarm}-two#0`,
        `${swarm}-two#1`,
      ]);
    });

    it('forgets a durable subscriber, which then starts afresh (issue #12)', async () => {
      const bus = env.bus();
      await publishAll(bus, swarm, 2);
      const first: Finding[] = [];
      track({
        subscription: bus.follow({ swarms: [swarm], name: 'digest' }).subscribe((f) => first.push(f)),
      });
      await until(env, () => first.length === 2);
      for (const s of subscriptions.splice(0)) s.unsubscribe();
      await bus.drain();
      expect((await bus.cursors(swarm)).digest).toBe(first[1]?.id);
      expect(await bus.forgetSubscriber(swarm, 'digest')).toBe(true);
      expect(await bus.cursors(swarm)).toEqual({});
      expect(await bus.forgetSubscriber(swarm, 'digest')).toBe(false);
      expect(await bus.forgetSubscriber(swarm, 'never')).toBe(false);
      const again: Finding[] = [];
      track({
        subscription: env
          .bus()
          .follow({ swarms: [swarm], name: 'digest', from: 'start' })
          .subscribe((f) => again.push(f)),
      });
      await until(env, () => again.length === 2);
      expect(again.map((f) => f.id)).toEqual(first.map((f) => f.id));
    });

    it('resumes a durable subscriber after a restart with no gap and no duplicate', async () => {
      const bus = env.bus();
      const [a, b] = [`${swarm}-a`, `${swarm}-b`];
      await publishAll(bus, a, 5);
      await publishAll(bus, b, 5);
      const first: Finding[] = [];
      const sub = bus.follow({ swarms: [a, b], name: 'digest' }).subscribe((f) => {
        first.push(f);
        if (first.length === 7) sub.unsubscribe();
      });
      await until(env, () => first.length === 7);
      await env.elapse(100);
      expect(first).toHaveLength(7);
      await bus.drain();
      await publishAll(bus, a, 3, { summary: 'while away' });
      const cursors = await bus.cursors(a);
      expect(Object.keys(cursors)).toEqual(['digest']);
      const second: Finding[] = [];
      track({
        subscription: env
          .bus()
          .follow({ swarms: [a, b], name: 'digest' })
          .subscribe((f) => second.push(f)),
      });
      await until(env, () => first.length + second.length === 13);
      await env.elapse(100);
      const ids = [...first, ...second].map((f) => `${f.swarm}/${f.id}`);
      expect(new Set(ids).size).toBe(13);
      expect(first.length + second.length).toBe(13);
      // A new name starts where it is told to, not at another subscriber's cursor.
      const fresh: Finding[] = [];
      track({
        subscription: bus.follow({ swarms: [a], name: 'late', from: 'now' }).subscribe((f) => fresh.push(f)),
      });
      await env.elapse(100);
      await publishAll(bus, a, 1, { summary: 'new' });
      await until(env, () => fresh.length === 1);
      expect(fresh[0]?.summary).toBe('new');
    });

    it("stores where 'now' landed, so a durable subscriber restarted before any finding misses none", async () => {
      const bus = env.bus();
      await publishAll(bus, swarm, 2);
      const first = bus.follow({ swarms: [swarm], name: 'late', from: 'now' }).subscribe();
      await env.elapse(100);
      first.unsubscribe();
      await bus.drain();
      await publishAll(bus, swarm, 1, { summary: 'while away' });
      const got: Finding[] = [];
      track({
        subscription: bus
          .follow({ swarms: [swarm], name: 'late', from: 'now' })
          .subscribe((f) => got.push(f)),
      });
      await until(env, () => got.length === 1);
      expect(got[0]?.summary).toBe('while away');
    });

    it('with manual commits, a restart replays what was handed over but not committed', async () => {
      const bus = env.bus();
      await publishAll(bus, swarm, 5);
      const commits = new Subject<Finding>();
      const first: Finding[] = [];
      const sub = bus.follow({ swarms: [swarm], name: 'careful', commits }).subscribe((f) => first.push(f));
      await until(env, () => first.length === 5);
      commits.next(first[1] as Finding); // done with #0 and #1 only
      sub.unsubscribe();
      commits.complete();
      await bus.drain();
      const second: Finding[] = [];
      track({
        subscription: bus.follow({ swarms: [swarm], name: 'careful' }).subscribe((f) => second.push(f)),
      });
      await until(env, () => second.length === 3);
      await env.elapse(100);
      expect(second.map((f) => f.summary)).toEqual([`${swarm}#2`, `${swarm}#3`, `${swarm}#4`]);
    });

    it('ends the subscription when a predicate throws, without moving past that finding', async () => {
      const bus = env.bus();
      await publishAll(bus, swarm, 3);
      const got: Finding[] = [];
      let failure: unknown;
      bus
        .follow({
          swarms: [swarm],
          name: 'picky',
          where: (f) => {
            if (f.summary.endsWith('#1')) throw new Error('bad predicate');
            return true;
          },
        })
        .subscribe({ next: (f) => got.push(f), error: (e: unknown) => (failure = e) });
      await until(env, () => failure !== undefined);
      await bus.drain();
      expect(String(failure)).toContain('bad predicate');
      expect(got.map((f) => f.summary)).toEqual([`${swarm}#0`]);
      expect((await bus.cursors(swarm)).picky).toBe(got[0]?.id);
    });
  });

  describe('bad input', () => {
    it.each([
      ['no task field', { hello: 'world' }, 'missing field "task"'],
      ['a task that is not JSON', { task: '{nope' }, 'field "task" is not valid JSON'],
      ['a task that is a JSON array', { task: '[1,2]' }, 'field "task" is not a JSON object'],
      ['a missing id', { task: '{"attempt":1,"created":1}' }, '"id" must be a string of 1-200 characters'],
      [
        'a non-numeric attempt',
        { task: '{"id":"t","attempt":"one","created":1}' },
        '"attempt" must be an integer >= 1',
      ],
      [
        'a negative created time',
        { task: '{"id":"t","attempt":1,"created":-5}' },
        '"created" must be an integer >= 0',
      ],
      [
        'a numeric description',
        { task: '{"id":"t","attempt":1,"created":1,"description":7}' },
        '"description" must be a string',
      ],
      [
        'control characters and emoji',
        { task: '\u0000\u0001\u00ff\u{1F600}' },
        'field "task" is not valid JSON',
      ],
    ])('dead-letters an entry with %s and goes on', async (_case, fields, reason) => {
      const bus = env.bus();
      await env.appendRaw(swarm, 'echo', fields);
      const good = await bus.post(swarm, 'echo', { data: 'fine' });
      const { deliveries } = track(collect(bus, swarm, 'echo'));
      await until(env, () => deliveries.length === 1);
      expect(deliveries[0]?.task.id).toBe(good.id);
      const dead = await bus.deadLetters(swarm);
      expect(dead).toHaveLength(1);
      expect(dead[0]?.reason).toContain(reason);
      expect(dead[0]?.raw).toEqual(fields);
    });

    it('refuses a payload over the limit at post', async () => {
      const bus = env.bus({ maxPayloadBytes: 1_000 });
      const error = await bus.post(swarm, 'echo', { data: 'x'.repeat(2_000) }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PayloadTooLargeError);
      expect(error).toMatchObject({ code: 'SWARM_PAYLOAD_TOO_LARGE' });
    });

    it.each([['a b'], ['x{y}'], [''], ['a:b'], ['-lead']])('refuses the name %j', async (name) => {
      const bus = env.bus();
      await expect(bus.post(name, 'echo', {})).rejects.toBeInstanceOf(InvalidNameError);
      await expect(bus.post(swarm, name, {})).rejects.toMatchObject({ code: 'SWARM_INVALID_NAME' });
    });
  });

  describe('status and shards', () => {
    it('counts waiting, in-flight, delayed and dead work per task type', async () => {
      const bus = env.bus();
      await bus.postBatch(swarm, 'a', [{}, {}, {}, {}]);
      await bus.post(swarm, 'b', {});
      const { deliveries } = track(
        collect(bus, swarm, 'a', { concurrency: 2, backoff: { baseMs: 60_000, maxMs: 60_000 } }),
      );
      await until(env, () => deliveries.length === 2);
      await deliveries[0]?.fail(new Error('later'));
      await deliveries[1]?.fail(new Error('never'), { retry: false });
      await until(env, () => deliveries.length === 4);
      await deliveries[2]?.complete({ summary: 'done' });
      const status = await bus.status(swarm);
      expect(status).toMatchObject({ swarm, findings: 1, deadLetters: 1 });
      expect(status.types).toEqual([
        expect.objectContaining({ type: 'a', waiting: 0, inFlight: 1, delayed: 1, consumers: 1 }),
        expect.objectContaining({ type: 'b', waiting: 1, inFlight: 0, delayed: 0 }),
      ]);
    });

    it('forgets consumers of killed workers that own nothing, and keeps the live one', async () => {
      const bus = env.bus();
      await env.ghostConsumer(swarm, 'echo', 'killed-worker');
      await bus.post(swarm, 'echo', {});
      const { deliveries } = track(collect(bus, swarm, 'echo', { consumer: 'live-worker', leaseMs: 200 }));
      await until(env, () => deliveries.length === 1);
      await deliveries[0]?.complete({ summary: 'done' });
      expect((await bus.status(swarm)).types).toMatchObject([{ type: 'echo', consumers: 2 }]);
      await env.elapse(11_000);
      const status = await bus.status(swarm);
      expect(status.types, JSON.stringify(status.types)).toMatchObject([{ type: 'echo', consumers: 1 }]);
    });

    it('keeps shard state for a restarted shard to resume from', async () => {
      const bus = env.bus();
      const info = { id: 'memory', specialization: 'history', context: 'abc', cursor: '1-0', updatedAt: 5 };
      await bus.registerShard(swarm, info);
      await bus.registerShard(swarm, { ...info, id: 'archive', context: undefined });
      expect(await env.bus().shards(swarm)).toEqual([{ ...info, id: 'archive', context: undefined }, info]);
      expect((await bus.status(swarm)).shards.map((s) => s.id)).toEqual(['archive', 'memory']);
      expect(await bus.swarms()).toContain(swarm);
    });
  });

  describe('context store', () => {
    it('round-trips a large context across buses and refuses a partial one', async () => {
      const writer = env.bus();
      const content = Buffer.alloc(2_600_000);
      for (let i = 0; i < content.length; i++) content[i] = (i * 31) % 251;
      const ref = await writer.context.put(swarm, content);
      expect(ref).toMatch(/^[0-9a-f]{32}$/);
      expect(await writer.context.put(swarm, content)).toBe(ref);
      const reader = env.bus();
      expect((await reader.context.get(swarm, ref)).equals(content)).toBe(true);

      await env.dropContextField(swarm, ref, 'c1');
      const cold = env.bus();
      const error = await cold.context.get(swarm, ref).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SwarmError);
      expect(error).toMatchObject({ code: 'SWARM_CONTEXT_MISSING' });
      expect(String((error as Error).message)).toContain('chunk 1 of 3 is missing');
      // The reader that already had it keeps serving it from its cache.
      expect((await reader.context.get(swarm, ref)).equals(content)).toBe(true);
    });

    it('keeps what was put, even if the caller reuses its buffer', async () => {
      const bus = env.bus();
      const content = Buffer.from('the original context');
      const ref = await bus.context.put(swarm, content);
      content.fill(0);
      expect((await bus.context.get(swarm, ref)).toString()).toBe('the original context');
    });

    it('says so when a context does not exist', async () => {
      await expect(env.bus().context.get(swarm, 'f'.repeat(32))).rejects.toMatchObject({
        code: 'SWARM_CONTEXT_MISSING',
      });
    });
  });
});
