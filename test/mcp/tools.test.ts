import { RedisBus } from '@swarm/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useRedisServer } from '../support/redis-server';
import { call, callError, connectStdio, type StdioSwarm } from './support';

interface Page {
  text: string;
  offset: number;
  length: number;
  firstLine: number;
  lastLine: number;
  totalBytes: number;
  totalLines: number;
  more: boolean;
  next: { offset?: number; line?: number } | null;
}

/** About 800 KB of numbered lines, some with multi-byte characters, so pages must respect UTF-8. */
function bigContext(): string {
  const lines: string[] = [];
  for (let i = 1; i <= 12_000; i++)
    lines.push(`line ${i}: ${i % 7 === 0 ? 'naïve café — ✓ 🐝 ' : ''}${'x'.repeat(55)}`);
  return `${lines.join('\n')}\n`;
}

describe('swarm mcp tools over stdio', () => {
  const redis = useRedisServer();
  let bus: RedisBus;
  let mcp: StdioSwarm;

  beforeAll(async () => {
    bus = new RedisBus({ url: redis.url });
    mcp = await connectStdio(['--swarm', 'tools', '--swarm', 'tools-*'], { SWARM_REDIS_URL: redis.url });
  });
  afterAll(async () => {
    await mcp?.close();
    await bus?.close();
  });

  it('lists its tools, each with an input and an output schema', async () => {
    const { tools } = await mcp.client.listTools();
    const names = tools.map((t) => t.name).sort();
    expect(names).toEqual(
      expect.arrayContaining(['list_findings', 'post_task', 'read_context', 'swarm_status']),
    );
    for (const tool of tools) {
      expect(tool.inputSchema.type).toBe('object');
      expect(tool.outputSchema?.type).toBe('object');
      expect(tool.description).toBeTruthy();
    }
    const post = tools.find((t) => t.name === 'post_task');
    expect(post?.inputSchema.required).toEqual(['swarm', 'type']);
  });

  it('posts a task that swarm_status then shows waiting', async () => {
    const posted = await call<{ id: string; duplicate: boolean }>(mcp.client, 'post_task', {
      swarm: 'tools',
      type: 'review',
      description: 'review chapter 3',
      data: { chapter: 3 },
      idempotencyKey: 'chapter-3',
    });
    expect(posted).toMatchObject({ swarm: 'tools', type: 'review', duplicate: false });
    const again = await call(mcp.client, 'post_task', {
      swarm: 'tools',
      type: 'review',
      idempotencyKey: 'chapter-3',
    });
    expect(again).toMatchObject({ id: posted.id, duplicate: true });
    const status = await call<{ swarms: { swarm: string; types: { type: string; waiting: number }[] }[] }>(
      mcp.client,
      'swarm_status',
      {},
    );
    expect(status.swarms.map((s) => s.swarm)).toContain('tools');
    expect(status.swarms.find((s) => s.swarm === 'tools')?.types).toEqual([
      expect.objectContaining({ type: 'review', waiting: 1 }),
    ]);
  });

  it('stores contextText as the task context', async () => {
    const posted = await call<{ context: string }>(mcp.client, 'post_task', {
      swarm: 'tools',
      type: 'summarise',
      contextText: 'the shard remembers',
    });
    expect((await bus.context.get('tools', posted.context)).toString()).toBe('the shard remembers');
  });

  it('pages an 800 KB context by bytes: the pages join to the context, never splitting a character', async () => {
    const content = bigContext();
    expect(Buffer.byteLength(content)).toBeGreaterThan(800_000);
    const ref = await bus.context.put('tools', content);
    const pieces: Buffer[] = [];
    let next: Page['next'] = { offset: 0 };
    let calls = 0;
    while (next) {
      const page: Page = await call<Page>(mcp.client, 'read_context', {
        swarm: 'tools',
        ref,
        offset: next.offset,
        length: 100_001,
      });
      expect(page.totalBytes).toBe(Buffer.byteLength(content));
      expect(Buffer.byteLength(page.text)).toBe(page.length);
      pieces.push(Buffer.from(page.text));
      expect(page.more).toBe(page.next !== null);
      next = page.next;
      calls++;
    }
    expect(Buffer.concat(pieces).toString()).toBe(content);
    expect(calls).toBeGreaterThanOrEqual(Math.ceil(Buffer.byteLength(content) / 100_001));
  });

  it('pages a context by lines', async () => {
    const content = bigContext();
    const ref = await bus.context.put('tools', content);
    const first = await call<Page>(mcp.client, 'read_context', { swarm: 'tools', ref, line: 1, lines: 3 });
    expect(first).toMatchObject({
      firstLine: 1,
      lastLine: 3,
      totalLines: 12_000,
      more: true,
      next: { line: 4 },
    });
    expect(first.text).toBe(`${content.split('\n').slice(0, 3).join('\n')}\n`);
    const seventh = await call<Page>(mcp.client, 'read_context', { swarm: 'tools', ref, line: 7, lines: 1 });
    expect(seventh.text).toContain('line 7: naïve café — ✓ 🐝');
    const last = await call<Page>(mcp.client, 'read_context', {
      swarm: 'tools',
      ref,
      line: 11_999,
      lines: 400,
    });
    expect(last).toMatchObject({ firstLine: 11_999, lastLine: 12_000, more: false, next: null });
    const byDefault = await call<Page>(mcp.client, 'read_context', { swarm: 'tools', ref, line: 1 });
    expect(byDefault.lastLine).toBe(400);
    const past = await callError(mcp.client, 'read_context', { swarm: 'tools', ref, line: 12_002 });
    expect(past).toContain('past the end');
    const both = await callError(mcp.client, 'read_context', { swarm: 'tools', ref, line: 1, offset: 0 });
    expect(both).toContain('not both');
  });

  it('answers a missing context with a tool error, not a crash', async () => {
    const missing = await callError(mcp.client, 'read_context', { swarm: 'tools', ref: 'f'.repeat(32) });
    expect(missing).toContain('not readable');
  });

  it('lists findings of a swarm or a pattern, after an id, by tag, up to a limit', async () => {
    const published = [];
    for (let i = 0; i < 5; i++)
      published.push(
        await bus.publish(i % 2 ? 'tools-a' : 'tools-b', {
          type: 'note',
          summary: `note ${i}`,
          tags: i === 3 ? ['risk'] : [],
        }),
      );
    type Listing = {
      swarms: string[];
      findings: { id: string; summary: string }[];
      more: boolean;
      next: string | null;
    };
    const one = await call<Listing>(mcp.client, 'list_findings', { swarm: 'tools-a' });
    expect(one.findings.map((f) => f.summary)).toEqual(['note 1', 'note 3']);
    // Across swarms, findings come in time order; two made in one millisecond may come either way.
    const summaries = (l: Listing) => l.findings.map((f) => f.summary);
    const all = await call<Listing>(mcp.client, 'list_findings', { swarm: 'tools-*' });
    expect(all.swarms.sort()).toEqual(['tools-a', 'tools-b']);
    expect(summaries(all).sort()).toEqual(['note 0', 'note 1', 'note 2', 'note 3', 'note 4']);
    expect(all.more).toBe(false);
    const none = await call<Listing>(mcp.client, 'list_findings', { swarm: 'tools-*', after: all.next });
    expect(none.findings).toEqual([]);
    const paged = await call<Listing>(mcp.client, 'list_findings', { swarm: 'tools-*', limit: 2 });
    expect(paged.findings).toHaveLength(2);
    expect(paged.more).toBe(true);
    const rest = await call<Listing>(mcp.client, 'list_findings', { swarm: 'tools-*', after: paged.next });
    expect([...summaries(paged), ...summaries(rest)].sort()).toEqual(summaries(all).sort());
    expect(rest.more).toBe(false);
    const risky = await call<Listing>(mcp.client, 'list_findings', { swarm: 'tools-*', tags: ['risk'] });
    expect(risky.findings.map((f) => f.summary)).toEqual(['note 3']);
    const afterId = await call<Listing>(mcp.client, 'list_findings', {
      swarm: 'tools-a',
      after: one.findings[0]?.id,
    });
    expect(afterId.findings.map((f) => f.summary)).toEqual(['note 3']);
    expect(afterId.next).toBe(one.findings[1]?.id);
  });

  it('answers bad arguments with a schema error that names the field', async () => {
    const wrongType = await callError(mcp.client, 'post_task', { swarm: 'tools', type: 7 });
    expect(wrongType).toMatch(/Input validation error/);
    expect(wrongType).toMatch(/\btype\b/);
    const missing = await callError(mcp.client, 'read_context', { swarm: 'tools' });
    expect(missing).toMatch(/\bref\b/);
    const unknown = await callError(mcp.client, 'swarm_status', { swarms: ['tools'] });
    expect(unknown).toMatch(/swarms/);
    const negative = await callError(mcp.client, 'read_context', { swarm: 'tools', ref: 'r', offset: -1 });
    expect(negative).toMatch(/offset/);
    const both = await callError(mcp.client, 'post_task', {
      swarm: 'tools',
      type: 't',
      context: 'r',
      contextText: 'x',
    });
    expect(both).toMatch(/contextText/);
  });

  it('refuses a swarm outside --swarm, naming it and the allowed list', async () => {
    const refused = await callError(mcp.client, 'post_task', { swarm: 'payroll', type: 'review' });
    expect(refused).toContain('"payroll"');
    expect(refused).toContain('tools, tools-*');
    expect(await bus.status('payroll')).toMatchObject({ types: [] });
    for (const [tool, args] of [
      ['read_context', { swarm: 'payroll', ref: 'r' }],
      ['list_findings', { swarm: 'payroll' }],
      ['swarm_status', { swarm: 'payroll' }],
    ] as const)
      expect(await callError(mcp.client, tool, args)).toContain('outside this server');
  });

  it('refuses a pattern that reaches a swarm outside --swarm, without naming it', async () => {
    await bus.publish('payroll', { type: 'note', summary: 'salaries' });
    const refused = await callError(mcp.client, 'list_findings', { swarm: '*' });
    expect(refused).toContain('pattern "*"');
    expect(refused).not.toContain('payroll');
    const status = await call<{ swarms: { swarm: string }[] }>(mcp.client, 'swarm_status', {});
    expect(status.swarms.map((s) => s.swarm)).not.toContain('payroll');
  });

  it('writes nothing but protocol messages on stdout', () => {
    expect(mcp.errors).toEqual([]);
    expect(mcp.stderr()).toContain('swarms: tools, tools-*');
  });
});
