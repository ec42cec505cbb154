import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { type Delivery, InvalidNameError, ManualClock, MemoryBus } from '@swarm/core';
import pino from 'pino';
import type { Subscription } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ContextFilesMissingError,
  EmptyContextSourceError,
  type GatherResult,
  GatherTimeoutError,
  Shard,
  type ShardFinding,
  ShardNotStartedError,
  type ShardOptions,
  ShardStoppedError,
} from './index';

const swarm = 'research';
const silent = pino({ level: 'silent' });
let clock: ManualClock;
let bus: MemoryBus;
let dir: string;
const shards: Shard[] = [];
const subscriptions: Subscription[] = [];

beforeEach(() => {
  clock = new ManualClock();
  bus = new MemoryBus({ clock });
  dir = mkdtempSync(join(tmpdir(), 'swarm-shard-'));
});

afterEach(async () => {
  for (const s of subscriptions.splice(0)) s.unsubscribe();
  for (const shard of shards.splice(0)) await shard.stop();
  await bus.close();
  rmSync(dir, { recursive: true, force: true });
});

function newShard(options: Partial<ShardOptions> = {}): Shard {
  const shard = new Shard({ bus, swarm, id: 'alpha', baseDir: dir, logger: silent, ...options });
  shards.push(shard);
  return shard;
}

async function started(options: Partial<ShardOptions> = {}): Promise<Shard> {
  const shard = newShard(options);
  await shard.start();
  return shard;
}

/** Moves bus time in small steps until the condition holds. */
async function until(condition: () => boolean, limitMs = 30_000): Promise<void> {
  for (let waited = 0; !condition(); waited += 25) {
    if (waited > limitMs) throw new Error(`condition not met within ${limitMs} ms of bus time`);
    await clock.advance(25);
  }
}

/** Collects deliveries of one task type without settling them: the test decides each outcome. */
function deliveries(type: string, on: MemoryBus = bus): Delivery[] {
  const got: Delivery[] = [];
  subscriptions.push(
    on.consume(swarm, type, { concurrency: 5_000, blockMs: 50 }).subscribe((d) => got.push(d)),
  );
  return got;
}

function collect<T>(source: { subscribe(next: (value: T) => void): Subscription }): T[] {
  const got: T[] = [];
  subscriptions.push(source.subscribe((value) => got.push(value)));
  return got;
}

async function completeAll(list: Delivery[], summary = (d: Delivery) => `done ${d.task.id}`) {
  for (const d of list.splice(0)) await d.complete({ summary: summary(d) });
}

function file(path: string, content: string): void {
  mkdirSync(join(dir, path, '..'), { recursive: true });
  writeFileSync(join(dir, path), content);
}

describe('lifecycle', () => {
  it('registers itself on start', async () => {
    await started({ specialization: 'papers' });
    expect(await bus.shards(swarm)).toEqual([
      {
        id: 'alpha',
        specialization: 'papers',
        context: undefined,
        cursor: undefined,
        updatedAt: clock.now(),
      },
    ]);
  });

  it('refuses use before start and after stop', async () => {
    const shard = newShard();
    await expect(shard.post('echo')).rejects.toThrow(ShardNotStartedError);
    await expect(shard.loadContext({ text: 'x' })).rejects.toMatchObject({ code: 'SWARM_SHARD_NOT_STARTED' });
    await shard.start();
    await shard.stop();
    await expect(shard.getAllFindings()).rejects.toThrow(ShardStoppedError);
    await expect(shard.start()).rejects.toMatchObject({ code: 'SWARM_SHARD_STOPPED' });
  });

  it('rejects an invalid shard id', () => {
    expect(() => new Shard({ bus, swarm, id: 'no spaces' })).toThrow(InvalidNameError);
  });
});

describe('loadContext', () => {
  it('stores text as the context and publishes its version', async () => {
    const shard = await started();
    const version = await shard.loadContext({ text: 'The sky is blue.' });
    expect(shard.contextVersion).toBe(version);
    expect((await bus.context.get(swarm, version)).toString()).toBe('The sky is blue.');
    expect((await bus.shards(swarm))[0]?.context).toBe(version);
  });

  it('appends matched files in path order, each under a header, once each', async () => {
    file('a.md', 'alpha');
    file('docs/b.md', 'bravo\n');
    file('docs/c.txt', 'charlie');
    file('docs/deep/d.md', 'delta');
    const shard = await started();
    const version = await shard.loadContext({ text: 'Intro', files: ['docs/**/*.md', 'a.md', 'docs/*'] });
    expect((await bus.context.get(swarm, version)).toString()).toBe(
      [
        'Intro',
        '=== a.md ===',
        'alpha',
        '=== docs/b.md ===',
        'bravo',
        '=== docs/c.txt ===',
        'charlie',
        '=== docs/deep/d.md ===',
        'delta',
        '',
      ].join('\n'),
    );
  });

  it('loads files without text', async () => {
    file('notes/one.md', 'one');
    const shard = await started();
    const version = await shard.loadContext({ files: ['notes/*.md'] });
    expect((await bus.context.get(swarm, version)).toString()).toBe('=== notes/one.md ===\none\n');
  });

  it('publishes a new version only when the content changes', async () => {
    file('a.md', 'first');
    const shard = await started();
    const v1 = await shard.loadContext({ files: ['a.md'] });
    const registered = (await bus.shards(swarm))[0]?.updatedAt;
    await clock.advance(1_000);
    expect(await shard.loadContext({ files: ['a.md'] })).toBe(v1);
    expect((await bus.shards(swarm))[0]?.updatedAt).toBe(registered);

    file('a.md', 'second');
    const v2 = await shard.loadContext({ files: ['a.md'] });
    expect(v2).not.toBe(v1);
    expect(shard.contextVersion).toBe(v2);
    expect(await bus.shards(swarm)).toMatchObject([{ context: v2, updatedAt: clock.now() }]);
  });

  it('names a pattern that matches nothing, and keeps the current version', async () => {
    file('a.md', 'alpha');
    const shard = await started();
    const v1 = await shard.loadContext({ text: 'x' });
    const error = await shard.loadContext({ files: ['a.md', 'missing/*.md'] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ContextFilesMissingError);
    expect(error).toMatchObject({ code: 'SWARM_CONTEXT_FILES_MISSING', pattern: 'missing/*.md' });
    expect((error as Error).message).toContain('"missing/*.md"');
    expect(shard.contextVersion).toBe(v1);
  });

  it('needs text or files', async () => {
    const shard = await started();
    await expect(shard.loadContext({})).rejects.toThrow(EmptyContextSourceError);
  });
});

describe('posting', () => {
  it('sets parent to the shard id and context to the current version', async () => {
    const shard = await started();
    const version = await shard.loadContext({ text: 'ctx' });
    const got = deliveries('echo');
    const one = await shard.post('echo', { description: 'one', data: 1 });
    const batch = await shard.postBatch('echo', [{ data: 2 }, { data: 3 }]);
    await until(() => got.length === 3);
    expect(got.map((d) => d.task.id)).toEqual([one.id, ...batch.map((p) => p.id)]);
    for (const d of got) expect(d.task).toMatchObject({ parent: 'alpha', context: version });
  });

  it('posts without a context before one is loaded', async () => {
    const shard = await started();
    const got = deliveries('echo');
    await shard.post('echo');
    await until(() => got.length === 1);
    expect(got[0]?.task).toMatchObject({ parent: 'alpha', context: undefined });
  });
});

describe('findings', () => {
  it("streams only this shard's findings and marks those of an older context stale", async () => {
    const shard = await started();
    const other = await started({ id: 'beta' });
    const v1 = await shard.loadContext({ text: 'version one' });
    const got = deliveries('ask');
    const live = collect<ShardFinding>(shard.findings$());

    await shard.post('ask', { data: 'a' });
    await other.post('ask', { data: 'other shard' });
    await bus.post(swarm, 'ask', { data: 'no parent' });
    await until(() => got.length === 3);
    await completeAll(got, (d) => String(d.task.data));
    await until(() => live.length === 1);
    expect(live[0]).toMatchObject({ summary: 'a', parent: 'alpha', contextVersion: v1, stale: false });

    await shard.post('ask', { data: 'b' }); // posted on v1, answered after the change
    await until(() => got.length === 1);
    const v2 = await shard.loadContext({ text: 'version two' });
    await shard.post('ask', { data: 'c' });
    await until(() => got.length === 2);
    await completeAll(got, (d) => String(d.task.data));
    await until(() => live.length === 3);
    expect(live.slice(1)).toMatchObject([
      { summary: 'b', contextVersion: v1, stale: true },
      { summary: 'c', contextVersion: v2, stale: false },
    ]);

    // Replayed now, the first finding is stale too.
    const replay = collect<ShardFinding>(shard.findings$({ from: 'start' }));
    await until(() => replay.length === 3);
    expect(replay.map((f) => [f.summary, f.stale])).toEqual([
      ['a', true],
      ['b', true],
      ['c', false],
    ]);
  });

  it('treats a finding without a context as fresh for a shard without one', async () => {
    const shard = await started();
    const got = deliveries('ask');
    await shard.post('ask');
    await until(() => got.length === 1);
    await completeAll(got);
    const all = await shard.getAllFindings();
    expect(all).toMatchObject([{ contextVersion: undefined, stale: false }]);
  });

  it('returns every stored finding of this shard, oldest first, across pages', async () => {
    const shard = await started();
    const other = await started({ id: 'beta' });
    const got = deliveries('ask');
    const mine = await shard.postBatch(
      'ask',
      Array.from({ length: 1_100 }, (_, i) => ({ data: i })),
    );
    await other.postBatch('ask', [{ data: 'x' }, { data: 'y' }]);
    await until(() => got.length === 1_102);
    await completeAll(got);
    const all = await shard.getAllFindings();
    expect(all).toHaveLength(1_100);
    expect(all.map((f) => f.taskId)).toEqual(mine.map((p) => p.id));
    expect(all.every((f) => f.parent === 'alpha' && !f.stale)).toBe(true);
  });

  it('completes live streams on stop', async () => {
    const shard = await started();
    let completed = 0;
    subscriptions.push(shard.findings$().subscribe({ complete: () => completed++ }));
    subscriptions.push(shard.newFindings$().subscribe({ complete: () => completed++ }));
    await shard.stop();
    expect(completed).toBe(2);
  });
});

describe('gather', () => {
  it('resolves with every finding in input order', async () => {
    const shard = await started();
    await shard.loadContext({ text: 'ctx' });
    const got = deliveries('square');
    const gathered = shard.gather('square', [{ data: 1 }, { data: 2 }, { data: 3 }]);
    await until(() => got.length === 3);
    for (const d of got.splice(0).reverse())
      await d.complete({ summary: String((d.task.data as number) ** 2) });
    const results = await gathered;
    expect(results.map((r) => ('finding' in r ? r.finding.summary : 'dead'))).toEqual(['1', '4', '9']);
    expect(results.every((r) => 'finding' in r && r.finding.taskId === r.taskId && !r.finding.stale)).toBe(
      true,
    );
  });

  it('reports a dead-lettered task beside the completed ones', async () => {
    const shard = await started();
    const got = deliveries('check');
    let results: GatherResult[] | undefined;
    shard.gather('check', [{ data: 'ok' }, { data: 'poison' }, { data: 'ok too' }]).then((r) => {
      results = r;
    });
    await until(() => got.length === 3);
    for (const d of got.splice(0)) {
      if (d.task.data === 'poison') await d.fail(new Error('cannot parse'), { retry: false });
      else await d.complete({ summary: String(d.task.data) });
    }
    await until(() => results !== undefined);
    expect(results).toMatchObject([
      { finding: { summary: 'ok' } },
      { deadLetter: { type: 'check', task: { data: 'poison', parent: 'alpha' } } },
      { finding: { summary: 'ok too' } },
    ]);
    const dead = results?.[1];
    expect(dead && 'deadLetter' in dead && dead.deadLetter.errors.at(-1)?.message).toBe('cannot parse');
  });

  it('rejects with the open count on timeout, and stops watching', async () => {
    const shard = await started();
    const got = deliveries('slow');
    let error: unknown;
    shard
      .gather('slow', [{ data: 1 }, { data: 2 }, { data: 3 }], { timeoutMs: 5_000 })
      .catch((e: unknown) => {
        error = e;
      });
    await until(() => got.length === 3);
    const [first] = got.splice(0, 1);
    await first?.complete({ summary: 'only one' });
    await until(() => error !== undefined);
    expect(error).toBeInstanceOf(GatherTimeoutError);
    expect(error).toMatchObject({
      code: 'SWARM_GATHER_TIMEOUT',
      open: 2,
      total: 3,
      openTaskIds: got.map((d) => d.task.id),
    });
    expect((error as Error).message).toContain('2 of 3 tasks still open');
    // Late outcomes after the rejection change nothing and throw nowhere.
    await completeAll(got);
    await clock.advance(2_000);
  });

  it('resolves an empty batch at once', async () => {
    const shard = await started();
    expect(await shard.gather('echo', [])).toEqual([]);
  });

  it('rejects a pending gather when the shard stops', async () => {
    const shard = await started();
    const gathered = shard.gather('echo', [{}]).catch((e: unknown) => e);
    await clock.advance(100);
    await shard.stop();
    expect(await gathered).toBeInstanceOf(ShardStoppedError);
  });

  it('sees findings of tasks answered before it looks', async () => {
    const shard = await started();
    const got = deliveries('fast');
    // A first gather teaches the shard a finding id to start later reads from.
    const first = shard.gather('fast', [{ data: 1 }]);
    await until(() => got.length === 1);
    await completeAll(got);
    await first;
    // The second batch is answered synchronously on delivery, before any poll.
    subscriptions.push(
      bus.consume(swarm, 'instant', { concurrency: 10, blockMs: 50 }).subscribe((d) => {
        void d.complete({ summary: 'instant' });
      }),
    );
    let results: GatherResult[] | undefined;
    shard.gather('instant', [{}, {}]).then((r) => {
      results = r;
    });
    await until(() => results !== undefined);
    expect(results?.map((r) => 'finding' in r && r.finding.summary)).toEqual(['instant', 'instant']);
  });
});

describe('restart', () => {
  it('resumes newFindings$ after the stored cursor: no gap, no duplicate', async () => {
    const got = deliveries('ask');
    const first = await started();
    const version = await first.loadContext({ text: 'ctx' });
    const before = collect<ShardFinding>(first.newFindings$());
    const posted = await first.postBatch(
      'ask',
      Array.from({ length: 6 }, (_, i) => ({ data: i })),
    );
    await until(() => got.length === 6);
    const byData = (n: number) => got.find((d) => d.task.data === n)!;
    for (const n of [0, 1, 2]) await byData(n).complete({ summary: `answer ${n}` });
    await until(() => before.length === 3);
    await first.stop();

    // While no shard runs, the rest are answered.
    for (const n of [3, 4]) await byData(n).complete({ summary: `answer ${n}` });

    const secondBus = new MemoryBus({ shareWith: bus });
    const second = new Shard({ bus: secondBus, swarm, id: 'alpha', baseDir: dir, logger: silent });
    shards.push(second);
    await second.start();
    expect(second.contextVersion).toBe(version);
    const after = collect<ShardFinding>(second.newFindings$());
    await until(() => after.length === 2);
    await byData(5).complete({ summary: 'answer 5' });
    await until(() => after.length === 3);
    await clock.advance(3_000);

    const seen = [...before, ...after].map((f) => f.taskId);
    expect(seen).toEqual(posted.map((p) => p.id));
    expect(after.map((f) => f.summary)).toEqual(['answer 3', 'answer 4', 'answer 5']);
    await secondBus.close();
  });

  it('starts a new shard from the first of its findings', async () => {
    const got = deliveries('ask');
    await bus.post(swarm, 'ask', { parent: 'alpha', data: 'before the shard existed' });
    await until(() => got.length === 1);
    await completeAll(got, () => 'early');
    const shard = await started();
    const taken = collect<ShardFinding>(shard.newFindings$());
    await until(() => taken.length === 1);
    expect(taken[0]?.summary).toBe('early');
  });
});

describe('logging', () => {
  it('logs with stable fields and never the context content', async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
        done();
      },
    });
    const logger = pino({ level: 'trace' }, sink);
    file('secret.md', 'FILE-SECRET-CONTENT');
    const shard = await started({ logger });
    await shard.loadContext({ text: 'TEXT-SECRET-CONTENT', files: ['secret.md'] });
    await shard.gather('echo', [], { timeoutMs: 10 });
    await shard.stop();
    await until(() => lines.length >= 3);
    for (const line of lines) expect(line).toMatchObject({ swarm, actor: 'shard', shard: 'alpha' });
    const text = JSON.stringify(lines);
    expect(text).not.toContain('SECRET-CONTENT');
    expect(lines.map((l) => l.msg)).toContain('context published');
  });
});
