import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  compareIds,
  type DeadLetter,
  type Finding,
  type JsonValue,
  MALFORMED_FINDING_TYPE,
  RedisBus,
} from '@swarm/core';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliProcess, type CliResult, jsonLines, ROOT, startSwarmCli, swarmCli } from '../support/cli';
import { useRedisServer } from '../support/redis-server';
import { until } from '../support/until';

/**
 * Issue #5: bad input. Malformed task entries and finding entries written with a raw
 * Redis client, and malformed topology files, each get a clear, specific error or dead letter,
 * and nothing crashes: the worker, the readers and the CLI carry on with the valid input around
 * them. The corpus of task entries is test/fixtures/entries/tasks.json; the topology corpus is
 * test/fixtures/topologies/bad/*.yaml, plus files too large or too dangerous for git, generated here.
 *
 * Every case says what should happen: a specific error, a dead letter, or a delivery that
 * round-trips exactly.
 */

// The buses in this process log nothing; CLI children are given their own level.
process.env.SWARM_LOG_LEVEL ??= 'silent';

const STACK = /\n\s+at /;
const MB10 = 10 * 1024 * 1024;
const nest = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

/** A case of test/fixtures/entries/tasks.json. */
interface EntryCase {
  name: string;
  /** The entry's fields, written as UTF-8 strings. */
  fields?: Record<string, string>;
  /** Field names and values in base64, written as bytes. */
  fieldsBase64?: Record<string, string>;
  /** Field names and values in order, when a name repeats. */
  flat?: string[];
  /** Shorthand for `fields: { task: JSON.stringify(task) }`. */
  task?: Record<string, unknown>;
  /** Generated here rather than stored in git (huge or deeply nested). */
  generate?: string;
  /** The fields a reader sees, when that differs from what was written. */
  raw?: Record<string, string>;
  /** A substring of the dead letter's reason. */
  expect?: string;
  /** Delivered and completed: its description and data must round-trip. */
  valid?: boolean;
  /** What is wrong with how it is handled; tested on its own. */
  defect?: string;
  note?: string;
}

interface Entry {
  case: EntryCase;
  /** XADD field arguments. */
  args: (string | Buffer)[];
  /** The fields as any reader decodes them (UTF-8; the last of a repeated name wins). */
  raw: Record<string, string>;
}

const CORPUS = JSON.parse(
  readFileSync(join(ROOT, 'test/fixtures/entries/tasks.json'), 'utf8'),
) as EntryCase[];

function generated(kind: string): string[] {
  switch (kind) {
    case 'id-201':
      return ['task', JSON.stringify({ id: 'i'.repeat(201), attempt: 1, created: 1 })];
    case 'id-200':
      return [
        'task',
        JSON.stringify({
          id: 'v'.repeat(200),
          attempt: 1,
          created: 1,
          description: 'an id of 200 characters',
        }),
      ];
    case 'huge-not-json':
      return ['task', `{"id":"t-huge","data":${'x'.repeat(MB10)}`];
    case 'huge-array':
      return ['task', `[${'"0123456789",'.repeat(Math.floor(MB10 / 13))}0]`];
    case 'huge-valid':
      return [
        'task',
        JSON.stringify({
          id: 'v-huge',
          attempt: 1,
          created: 1,
          description: '10 MB of data',
          data: 'z'.repeat(MB10),
        }),
      ];
    case 'deep-task':
      return ['task', nest(10_000)];
    case 'deep-data':
      return [
        'task',
        `{"id":"d-deep-data","attempt":1,"created":1,"description":"nested 10,000 deep","data":${nest(10_000)}}`,
      ];
    case 'deep-data-1500':
      return [
        'task',
        `{"id":"v-deep-1500","attempt":1,"created":1,"description":"nested 1,500 deep","data":${nest(1_500)}}`,
      ];
    default:
      throw new Error(`tasks.json: unknown generator ${kind}`);
  }
}

function materialize(c: EntryCase): Entry {
  let args: (string | Buffer)[];
  if (c.flat) args = c.flat;
  else if (c.fields) args = Object.entries(c.fields).flat();
  else if (c.task) args = ['task', JSON.stringify(c.task)];
  else if (c.fieldsBase64)
    args = Object.entries(c.fieldsBase64)
      .flat()
      .map((b64) => Buffer.from(b64, 'base64'));
  else if (c.generate) args = generated(c.generate);
  else throw new Error(`tasks.json: case "${c.name}" has no fields`);
  const pairs: [string, string][] = [];
  for (let i = 0; i + 1 < args.length; i += 2) pairs.push([String(args[i]), String(args[i + 1])]);
  return { case: c, args, raw: c.raw ?? Object.fromEntries(pairs) };
}

/** What the echo builtin answers for a task: its description, or its data as JSON. */
function echoed(entry: Entry): { id: string; summary: string; data: JsonValue } {
  const task = JSON.parse(entry.raw.task as string) as { id: string; description?: string; data?: JsonValue };
  const data = task.data ?? null;
  return { id: task.id, summary: task.description || JSON.stringify(data), data };
}

/** As long as this suite has always waited, asking less often than until's default: each probe reads Redis. */
const LIMIT = { limitMs: 20_000, everyMs: 50 };

/** Runs `work` over `items`, at most `limit` at once, keeping the order of the results. */
async function pooled<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await work(items[i] as T);
      }
    }),
  );
  return results;
}

describe('bad input', () => {
  const redis = useRedisServer();
  let bus: RedisBus;
  let raw: Redis;
  const processes: CliProcess[] = [];

  const cliEnv = () => ({ SWARM_REDIS_URL: redis.url, SWARM_LOG_LEVEL: 'warn' });
  const start = (args: string[]) => {
    const proc = startSwarmCli(args, { env: cliEnv() });
    proc.child.stdin.end();
    processes.push(proc);
    return proc;
  };
  const isRunning = (proc: CliProcess) => proc.child.exitCode === null && proc.child.signalCode === null;
  const xadd = (key: string, args: (string | Buffer)[]) => raw.call('XADD', key, '*', ...args);

  beforeAll(async () => {
    bus = new RedisBus({ url: redis.url });
    raw = new Redis(redis.url, { protocol: 2 });
  });

  afterAll(async () => {
    for (const proc of processes) if (isRunning(proc)) proc.child.kill('SIGKILL');
    await Promise.all(processes.map((p) => p.exited.catch(() => null)));
    await bus?.close();
    raw?.disconnect();
  });

  describe('malformed task entries (test/fixtures/entries/tasks.json)', () => {
    const entries = CORPUS.filter((c) => !c.defect).map(materialize);
    const malformed = entries.filter((e) => !e.case.valid);
    const valid = entries.filter((e) => e.case.valid);

    it('has a corpus that says what to expect of every case', () => {
      expect(malformed.length).toBeGreaterThanOrEqual(40);
      expect(valid.length).toBeGreaterThanOrEqual(10);
      for (const e of malformed) expect(e.case.expect, e.case.name).toMatch(/^malformed entry: /);
      for (const e of valid) expect(typeof e.raw.task, e.case.name).toBe('string');
      expect(new Set(CORPUS.map((c) => c.name)).size).toBe(CORPUS.length);
      // Each malformed case is recognised in the dead-letter stream by its fields.
      expect(new Set(malformed.map((e) => JSON.stringify(e.raw))).size).toBe(malformed.length);
    });

    it('dead-letters each malformed entry with its reason and fields, and completes every valid task, through a real `swarm worker`', async () => {
      const swarm = 'bad-tasks';
      const stream = `swarm:{${swarm}}:tasks:work`;
      const worker = start(['worker', swarm, 'work', '--handler', 'echo', '--lease-ms', '5000']);
      await until(
        () => worker.stderr.includes('running'),
        () => `the worker to start: ${worker.stderr}`,
        LIMIT,
      );

      /** Task id → what its finding must say. */
      const expected = new Map<string, { summary: string; data: JsonValue }>();
      const postValid = async (description: string, data: JsonValue) => {
        const { id } = await bus.post(swarm, 'work', { description, data });
        expected.set(id, { summary: description || JSON.stringify(data), data });
      };
      for (const [i, entry] of entries.entries()) {
        await postValid(`valid ${i}`, { i });
        await xadd(stream, entry.args);
        if (entry.case.valid) {
          const { id, ...finding } = echoed(entry);
          expected.set(id, finding);
        }
        // The odd-unicode tasks again, posted through the bus rather than written raw.
        const task = entry.case.task;
        if (entry.case.valid && task && typeof task.description === 'string')
          await postValid(task.description, (task.data ?? null) as JsonValue);
      }

      const settled = async () => {
        const status = await bus.status(swarm);
        return status.findings >= expected.size && status.deadLetters >= malformed.length;
      };
      await until(settled, () => `${expected.size} findings and ${malformed.length} dead letters`, {
        limitMs: 40_000,
        everyMs: 200,
      });

      // Every valid task has exactly one finding, and its description and data came back as written.
      const findings = await bus.readFindings(swarm, { count: 10_000 });
      expect(findings).toHaveLength(expected.size);
      const byTask = new Map<string, Finding[]>();
      for (const f of findings) byTask.set(f.taskId, [...(byTask.get(f.taskId) ?? []), f]);
      for (const [id, want] of expected) {
        const got = byTask.get(id) ?? [];
        expect(got, `findings of task ${id.slice(0, 40)}`).toHaveLength(1);
        expect(got[0]?.summary).toBe(want.summary);
        // Serialised before comparing: 1,500-deep data is too deep for a recursive equality check.
        expect(JSON.stringify(got[0]?.data)).toBe(JSON.stringify(want.data));
      }
      // The lone surrogates survive exactly (JSON escapes), invalid UTF-8 turns into U+FFFD.
      expect(byTask.get('v-lone-surrogates')?.[0]?.summary).toBe(
        'high \ud800 low \udc00 reversed \udc00\ud800',
      );
      expect(byTask.get('v-binary-in-string')?.[0]?.summary).toBe('bytes \ufffd\ufffd\ufffd\ufffd end');
      expect(byTask.get('v-wtf8-surrogate')?.[0]?.summary).toBe('lone \ufffd\ufffd\ufffd surrogate');

      // Every malformed entry is dead-lettered once, with its reason and its fields as read.
      const dead = await bus.deadLetters(swarm, { count: 10_000 });
      expect(dead).toHaveLength(malformed.length);
      const byRaw = new Map<string, DeadLetter[]>();
      for (const d of dead)
        byRaw.set(JSON.stringify(d.raw), [...(byRaw.get(JSON.stringify(d.raw)) ?? []), d]);
      for (const entry of malformed) {
        const letters = byRaw.get(JSON.stringify(entry.raw)) ?? [];
        expect(letters, `dead letters of "${entry.case.name}"`).toHaveLength(1);
        const [letter] = letters;
        expect(letter?.reason, entry.case.name).toContain(entry.case.expect);
        expect(letter).toMatchObject({ type: 'work', task: undefined, errors: [] });
      }
      // One warning per malformed entry, each naming its reason.
      const warnings = worker.stderr
        .split('\n')
        .filter((l) => l.includes('dead-lettering malformed task entry'));
      expect(warnings).toHaveLength(malformed.length);

      // The worker is still alive and takes tasks after the corpus.
      expect(isRunning(worker)).toBe(true);
      const after: string[] = [];
      for (let i = 0; i < 5; i++)
        after.push((await bus.post(swarm, 'work', { description: `after ${i}` })).id);
      await until(
        async () => {
          const taken = new Set((await bus.readFindings(swarm, { count: 10_000 })).map((f) => f.taskId));
          return after.every((id) => taken.has(id));
        },
        'the tasks posted after the corpus',
        LIMIT,
      );

      // Nothing is left waiting, in flight or delayed.
      const status = await bus.status(swarm);
      expect(status.types).toEqual([
        expect.objectContaining({ type: 'work', waiting: 0, inFlight: 0, delayed: 0, consumers: 1 }),
      ]);
      expect(status).toMatchObject({ findings: expected.size + 5, deadLetters: malformed.length });

      // `swarm dlq list` lists every one of them, in both output modes.
      const listed = await swarmCli(['dlq', swarm, 'list', '--json'], { env: cliEnv() });
      expect(listed.code, listed.stderr).toBe(0);
      const records = jsonLines(listed.stdout);
      expect(records).toHaveLength(malformed.length);
      expect(records.map((r) => r.reason).sort()).toEqual(dead.map((d) => d.reason).sort());
      expect(records.map((r) => JSON.stringify(r.raw)).sort()).toEqual(
        malformed.map((e) => JSON.stringify(e.raw)).sort(),
      );
      const human = await swarmCli(['dlq', swarm, 'list'], { env: cliEnv() });
      expect(human.code, human.stderr).toBe(0);
      expect(human.stdout.match(/task \(malformed\)/g)).toHaveLength(malformed.length);

      // Drained on SIGTERM: every valid task completed, none failed, and no stack trace anywhere.
      worker.child.kill('SIGTERM');
      expect(await worker.exited).toBe(0);
      expect(worker.stdout).toContain(`drained: ${expected.size + 5} completed, 0 failed`);
      expect(worker.stderr).not.toMatch(STACK);
      console.info(
        `bad task entries: ${entries.length} written (${malformed.length} malformed, ${valid.length} valid) ` +
          `among ${expected.size + 5 - valid.length} posted through the bus; ` +
          `${dead.length} dead letters, ${expected.size + 5} findings`,
      );
    });
  });

  describe('malformed finding entries', () => {
    const huge = 'h'.repeat(MB10);
    /** What a reader hands over for an entry that is not a finding: a stand-in saying why. */
    const standIn = (reason: string, data: string): Partial<Finding> => ({
      type: MALFORMED_FINDING_TYPE,
      summary: `malformed finding entry: ${reason}`,
      data,
      taskId: '',
      workerId: '',
      attempt: 0,
      tags: ['malformed'],
    });
    const required = '"taskId":"t","type":"foreign","workerId":"w"';
    /** Written raw between valid findings; what a reader must make of each. */
    const cases: { name: string; args: (string | Buffer)[]; surfaced: Partial<Finding> }[] = [
      {
        name: 'no finding field',
        args: ['hello', 'world'],
        surfaced: standIn('no "finding" field', '{"hello":"world"}'),
      },
      { name: 'an empty field name', args: ['', ''], surfaced: standIn('no "finding" field', '{"":""}') },
      {
        name: 'not JSON',
        args: ['finding', '{nope'],
        surfaced: standIn('"finding" is not valid JSON', '{nope'),
      },
      {
        name: 'a JSON array',
        args: ['finding', '[1,2]'],
        surfaced: standIn('"finding" is not a JSON object', '[1,2]'),
      },
      {
        name: 'JSON null',
        args: ['finding', 'null'],
        surfaced: standIn('"finding" is not a JSON object', 'null'),
      },
      {
        name: 'binary bytes',
        args: [Buffer.from('finding'), Buffer.from([0xff, 0xfe, 0x00])],
        surfaced: standIn('"finding" is not valid JSON', '\ufffd\ufffd\u0000'),
      },
      {
        name: 'keys of the wrong types',
        args: [
          'finding',
          '{"summary":5,"tags":"risk","attempt":"many","createdAt":{},"taskId":["x"],"contextVersion":7,"data":1}',
        ],
        surfaced: standIn(
          '"taskId" must be a non-empty string',
          '{"summary":5,"tags":"risk","attempt":"many","createdAt":{},"taskId":["x"],"contextVersion":7,"data":1}',
        ),
      },
      {
        name: 'an attempt of 1e400 (Infinity)',
        args: ['finding', `{${required},"summary":"inf","attempt":1e400,"createdAt":-1e400}`],
        surfaced: standIn(
          '"attempt" must be an integer >= 0',
          `{${required},"summary":"inf","attempt":1e400,"createdAt":-1e400}`,
        ),
      },
      {
        name: 'no summary',
        args: ['finding', `{${required},"attempt":1,"createdAt":1}`],
        surfaced: standIn('"summary" must be a string', `{${required},"attempt":1,"createdAt":1}`),
      },
      {
        name: 'an id and a swarm of its own',
        args: [
          'finding',
          `{"id":"9999999999999-0","swarm":"elsewhere",${required},"summary":"claims another id","attempt":1,"createdAt":1}`,
        ],
        surfaced: { type: 'foreign', summary: 'claims another id', taskId: 't', attempt: 1, createdAt: 1 },
      },
      {
        name: '10 MB, not JSON',
        args: ['finding', huge],
        surfaced: standIn('"finding" is not valid JSON', huge),
      },
    ];

    it('hands each over as a malformed stand-in, through readFindings, findings$ and `swarm findings --json`, in stream order, and keeps delivering the valid ones after them', async () => {
      const swarm = 'bad-findings';
      const key = `swarm:{${swarm}}:findings`;
      const live: Finding[] = [];
      const tail = bus.findings$(swarm, { from: 'start' }).subscribe({ next: (f) => live.push(f) });
      try {
        const validIds: string[] = [];
        const malformedIds = new Map<string, (typeof cases)[number]>();
        for (const [i, c] of cases.entries()) {
          validIds.push((await bus.publish(swarm, { type: 'note', summary: `valid ${i}` })).id);
          malformedIds.set(String(await xadd(key, c.args)), c);
        }
        validIds.push((await bus.publish(swarm, { type: 'note', summary: 'valid last' })).id);
        const total = validIds.length + cases.length;

        const stored = await bus.readFindings(swarm);
        expect(stored).toHaveLength(total);
        expect(stored.map((f) => f.id)).toEqual([...stored.map((f) => f.id)].sort(compareIds));
        expect(stored.filter((f) => f.type === 'note').map((f) => f.summary)).toEqual([
          ...cases.map((_, i) => `valid ${i}`),
          'valid last',
        ]);
        expect(stored.filter((f) => f.type === 'note').map((f) => f.id)).toEqual(validIds);
        for (const f of stored) {
          const c = malformedIds.get(f.id);
          if (c) expect(f, c.name).toMatchObject({ ...c.surfaced, id: f.id, swarm });
          expect(Number.isFinite(f.attempt) && Number.isFinite(f.createdAt), f.id).toBe(true);
        }

        // The live reader (tailing from before the first write) and a replaying one agree with the stream.
        await until(
          () => live.length >= total,
          () => `findings$ to reach ${total}, at ${live.length}`,
          LIMIT,
        );
        expect(live).toEqual(stored);
        const replayed: Finding[] = [];
        const replay = bus.findings$(swarm).subscribe((f) => replayed.push(f));
        await until(() => replayed.length >= total, 'the replay', LIMIT);
        replay.unsubscribe();
        expect(replayed).toEqual(stored);

        // And a malformed entry written while it tails does not stop the next valid finding.
        await xadd(key, ['finding', '{still not json']);
        const next = await bus.publish(swarm, { type: 'note', summary: 'after the tail' });
        await until(() => live.some((f) => f.id === next.id), 'the live reader to pass the new entry', LIMIT);
        expect(live.slice(total).map((f) => [f.summary, f.data])).toEqual([
          ['malformed finding entry: "finding" is not valid JSON', '{still not json'],
          ['after the tail', null],
        ]);

        const all = await bus.readFindings(swarm);
        const cli = await swarmCli(['findings', swarm, '--json'], { env: cliEnv() });
        expect(cli.code, cli.stderr).toBe(0);
        expect(cli.stderr).not.toMatch(STACK);
        const printed = jsonLines(cli.stdout);
        expect(printed.map((r) => r.id)).toEqual(all.map((f) => f.id));
        expect(printed.map((r) => r.summary)).toEqual(all.map((f) => f.summary));
        const inf = all.find((f) => typeof f.data === 'string' && f.data.includes('"inf"'));
        expect(printed.find((r) => r.id === inf?.id)).toMatchObject({
          type: MALFORMED_FINDING_TYPE,
          attempt: 0,
          createdAt: Number(inf?.id.split('-')[0]),
        });
        const text = await swarmCli(['findings', swarm], { env: cliEnv() });
        expect(text.code, text.stderr).toBe(0);
        for (const f of all) expect(text.stdout).toContain(f.id);
        console.info(
          `bad finding entries: ${cases.length + 1} written raw among ${validIds.length + 1} valid; ` +
            `${all.length} findings read back by readFindings, findings$ and the CLI`,
        );
      } finally {
        tail.unsubscribe();
      }
    });

    it('a finding nested 10,000 deep reaches every reader, its data replaced by a note, and `swarm findings --json` prints all', async () => {
      const swarm = 'deep-finding';
      await bus.publish(swarm, { type: 'note', summary: 'before' });
      await xadd(`swarm:{${swarm}}:findings`, [
        'finding',
        `{"taskId":"t","type":"note","workerId":"w","attempt":1,"createdAt":1,"summary":"deep","data":${nest(10_000)}}`,
      ]);
      await bus.publish(swarm, { type: 'note', summary: 'after' });
      const stored = await bus.readFindings(swarm);
      expect(stored.map((f) => f.summary)).toEqual(['before', 'deep', 'after']);
      expect(stored[1]?.data).toBe('[data nested deeper than 256 levels]');
      const seen: Finding[] = [];
      const sub = bus.findings$(swarm).subscribe((f) => seen.push(f));
      await until(() => seen.length === 3, 'findings$', LIMIT);
      sub.unsubscribe();
      expect(seen.map((f) => f.summary)).toEqual(['before', 'deep', 'after']);
      const text = await swarmCli(['findings', swarm], { env: cliEnv() });
      expect(text.code).toBe(0);
      expect(text.stdout).toContain('after');
      const cli = await swarmCli(['findings', swarm, '--json'], { env: cliEnv() });
      expect(cli.code, cli.stderr).toBe(0);
      expect(jsonLines(cli.stdout).map((r) => r.summary)).toEqual(['before', 'deep', 'after']);
    });
  });

  describe('malformed topology files (`swarm validate`)', () => {
    const badDir = join(ROOT, 'test/fixtures/topologies/bad');
    const committed = readdirSync(badDir)
      .filter((f) => f.endsWith('.yaml'))
      .sort();
    const tmp = mkdtempSync(join(tmpdir(), 'swarm-bad-topology-'));
    const bigLines = { error: 0 };
    /** Generated at test time: too large or too dangerous for git. */
    const generatedFiles: Record<string, string | Buffer> = {
      'billion-laughs.yaml': [
        ...'abcdefghi'.split('').map((name, i) => {
          const prev = 'abcdefghi'[i - 1];
          const items = i === 0 ? Array(9).fill('"lol"') : Array(9).fill(`*${prev}`);
          return `${name}: &${name} [${items.join(',')}]`;
        }),
        'swarms: {}',
        '',
      ].join('\n'),
      'unresolved-alias.yaml': 'swarms:\n  hello:\n    workers:\n      - *nope\n',
      'bom.yaml': Buffer.concat([
        Buffer.from([0xef, 0xbb, 0xbf]),
        Buffer.from(
          'swarms:\n  hello:\n    workers:\n      - type: ask\n        handler: { builtin: echo }\n',
        ),
      ]),
      'bom-error.yaml': Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('swarmz: {}\n')]),
      'top-level-binary.yaml': '!!binary aGVsbG8=\n',
      'five-megabytes.yaml': (() => {
        const lines = ['swarms:', '  big:', '    shards:', '      - id: memory', '        tasks:'];
        let size = 0;
        for (let i = 0; size < 5 * 1024 * 1024; i++) {
          const line = `          - { type: ask, description: "question ${i} ${'x'.repeat(60)}" }`;
          lines.push(line);
          size += line.length + 1;
        }
        lines.push('    workerz: []', '');
        bigLines.error = lines.length - 1;
        return lines.join('\n');
      })(),
    };
    const results = new Map<string, CliResult & { ms: number }>();

    beforeAll(async () => {
      for (const [name, content] of Object.entries(generatedFiles)) writeFileSync(join(tmp, name), content);
      const files = [
        ...committed.map((f) => join(badDir, f)),
        ...Object.keys(generatedFiles).map((f) => join(tmp, f)),
      ];
      await pooled(files, 4, async (file) => {
        const started = Date.now();
        const result = await swarmCli(['validate', file], { timeoutMs: 60_000 });
        results.set(file, { ...result, ms: Date.now() - started });
      });
    }, 120_000);

    afterAll(() => rmSync(tmp, { recursive: true, force: true }));

    it('has new files: tabs, a list for swarms, binary and NUL bytes, odd numbers, two documents, only comments', () => {
      for (const name of [
        'tab-indent.yaml',
        'swarms-list.yaml',
        'binary-bytes.yaml',
        'odd-numbers.yaml',
        'multi-document.yaml',
        'comments-only.yaml',
      ])
        expect(committed).toContain(name);
      expect(readFileSync(join(badDir, 'binary-bytes.yaml')).includes(Buffer.from([0xff, 0xfe, 0x00]))).toBe(
        true,
      );
    });

    it.each(committed)('%s: exit 2, every expected file:line:col message, no stack trace', (name) => {
      const file = join(badDir, name);
      const result = results.get(file);
      const expected = readFileSync(file, 'utf8')
        .split('\n')
        .filter((line) => line.startsWith('# expect: '))
        .map((line) => line.slice('# expect: '.length));
      expect(expected.length).toBeGreaterThan(0);
      expect(result?.code, result?.stderr).toBe(2);
      for (const line of expected) expect(result?.stderr).toContain(`${file}:${line}`);
      expect(result?.stderr.startsWith(`swarm: ${file}:`)).toBe(true);
      expect(result?.stderr).not.toMatch(STACK);
      expect(result?.stdout).toBe('');
    });

    it('a 5 MB topology: the error on its last line, at the right line, in reasonable time', () => {
      const file = join(tmp, 'five-megabytes.yaml');
      const result = results.get(file);
      expect(result?.code, result?.stderr).toBe(2);
      expect(result?.stderr).toContain(
        `${file}:${bigLines.error}:5: unknown key "workerz": did you mean "workers"? (at swarms.big.workerz)`,
      );
      expect(result?.stderr).not.toMatch(STACK);
      expect(result?.ms).toBeLessThan(30_000);
    });

    it('a byte order mark at the start is accepted', () => {
      const result = results.get(join(tmp, 'bom.yaml'));
      expect(result?.code, result?.stderr).toBe(0);
      expect(result?.stdout).toContain('swarm hello: 0 shard(s), worker pools: ask');
    });

    it('counts columns after a byte order mark from 1', () => {
      const file = join(tmp, 'bom-error.yaml');
      expect(results.get(file)?.stderr).toContain(`${file}:1:1: unknown key "swarmz"`);
    });

    it('refuses an anchor bomb and an unresolved alias as invalid topologies (exit 2, file:line:col)', () => {
      for (const name of ['billion-laughs.yaml', 'unresolved-alias.yaml']) {
        const file = join(tmp, name);
        expect(results.get(file)?.code).toBe(2);
        expect(results.get(file)?.stderr).toMatch(new RegExp(`^swarm: ${file}:\\d+:\\d+: `));
      }
    });

    it('refuses a top-level !!binary value with one message, not one per Buffer method', () => {
      const result = results.get(join(tmp, 'top-level-binary.yaml'));
      expect(result?.stderr).not.toContain('readBigUInt64LE');
      expect(result?.stderr.trim().split('\n').length).toBeLessThanOrEqual(2);
    });
  });
});
