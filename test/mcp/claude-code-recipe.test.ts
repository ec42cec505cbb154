import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RedisBus } from '@swarm/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useRedisServer } from '../support/redis-server';
import { isAlive, until } from '../worker/helpers';
import { call, connectStdio, SWARM_BIN } from './support';

const RECIPE = join(import.meta.dirname, '../../examples/claude-code');

interface ServerEntry {
  command: string;
  args: string[];
  env: Record<string, string>;
}

/** Claude Code's expansion in .mcp.json: `${VAR}` and `${VAR:-default}`. */
function expand(value: string, env: Record<string, string | undefined>): string {
  return value.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g,
    (_, name: string, fallback?: string) => {
      const set = env[name];
      if (set !== undefined && set !== '') return set;
      if (fallback !== undefined) return fallback;
      throw new Error(`.mcp.json needs $${name}`);
    },
  );
}

function mcpServer(env: Record<string, string>): ServerEntry {
  const config = JSON.parse(readFileSync(join(RECIPE, '.mcp.json'), 'utf8'));
  const entry = config.mcpServers.swarm as ServerEntry;
  return {
    command: expand(entry.command, env),
    args: entry.args.map((a) => expand(a, env)),
    env: Object.fromEntries(Object.entries(entry.env ?? {}).map(([k, v]) => [k, expand(v, env)])),
  };
}

/** The subagent file: frontmatter fields, and each step's tool with its JSON arguments, in order. */
function subagent() {
  const text = readFileSync(join(RECIPE, '.claude/agents/swarm-worker.md'), 'utf8');
  const [, frontmatter = '', body = ''] = /^---\n([\s\S]*?)\n---\n([\s\S]*)$/.exec(text) ?? [];
  const fields = Object.fromEntries(
    frontmatter.split('\n').map((line) => {
      const [, key = '', value = ''] = /^(\w+):\s*(.*)$/.exec(line) ?? [];
      return [key, value];
    }),
  );
  // Each JSON block holds the arguments of the last tool named before it.
  const steps = [...body.matchAll(/```json\n([\s\S]*?)```/g)].map((block) => {
    const before = body.slice(0, block.index);
    const tool = [...before.matchAll(/`mcp__swarm__(\w+)`/g)].at(-1)?.[1];
    if (!tool) throw new Error(`no tool named before the block ${block[1]}`);
    return { tool, args: block[1] as string };
  });
  return { fields, tools: String(fields.tools).split(/,\s*/), body, steps };
}

/** Fills a step's `"<placeholder>"` strings the way the agent would. */
function argsOf(step: { args: string }, values: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(
    step.args.replace(/"<([a-z.]+)>"/g, (_, name: string) => {
      if (!(name in values)) throw new Error(`no value for <${name}>`);
      return JSON.stringify(values[name]);
    }),
  );
}

describe('the Claude Code recipe: a subagent that claims, reads the context, reports and exits', () => {
  const redis = useRedisServer();
  let bus: RedisBus;
  const agent = subagent();

  beforeAll(async () => {
    bus = new RedisBus({ url: redis.url });
  });
  afterAll(async () => {
    await bus?.close();
  });

  it('defines a subagent whose prompt uses only tools its frontmatter grants', () => {
    expect(agent.fields.name).toBe('swarm-worker');
    expect(agent.fields.description).toBeTruthy();
    const used = new Set([...agent.body.matchAll(/mcp__swarm__\w+/g)].map((m) => m[0]));
    for (const tool of used) expect(agent.tools).toContain(tool);
    expect(agent.steps.map((s) => s.tool)).toEqual([
      'claim_task',
      'read_context',
      'renew_lease',
      'report_finding',
      'fail_task',
    ]);
  });

  it('does what the prompt says against the server .mcp.json starts, and the finding outlives it', async () => {
    const swarm = 'research';
    const context = [
      'The queen lays up to 2,000 eggs a day.',
      ...Array.from({ length: 1_500 }, (_, i) => `Filler line ${i} about the hive.`),
      'Worker bees live about six weeks in summer.',
    ].join('\n');
    const ref = await bus.context.put(swarm, context);
    const posted = await bus.post(swarm, 'ask', {
      description: 'How long does a worker bee live?',
      data: { keyword: 'Worker bees' },
      context: ref,
    });

    // Claude Code starts the server as .mcp.json says; `swarm` is the built CLI here.
    const entry = mcpServer({ SWARM_REDIS_URL: redis.url });
    expect(entry.command).toBe('swarm');
    const mcp = await connectStdio(entry.args.slice(1), entry.env, {
      command: process.execPath,
      args: [SWARM_BIN, entry.args[0] as string],
    });
    const pid = mcp.transport.pid as number;
    const { tools } = await mcp.client.listTools();
    for (const granted of agent.tools) expect(tools.map((t) => `mcp__swarm__${t.name}`)).toContain(granted);

    // The parent's message to the subagent: "answer one `ask` task of swarm research".
    const step = (tool: string) => agent.steps.find((s) => s.tool === tool) as { tool: string; args: string };
    const claimed = await call<{
      outcome: string;
      claim: string;
      task: { description: string; data: { keyword: string } };
      context: { ref: string };
    }>(mcp.client, 'claim_task', argsOf(step('claim_task'), { swarm, type: 'ask' }));
    expect(claimed.outcome).toBe('claimed');

    type Page = { text: string; more: boolean; next: { line: number } | null };
    const readArgs = argsOf(step('read_context'), { swarm, 'context.ref': claimed.context.ref });
    let text = '';
    let line = readArgs.line as number | undefined;
    while (line !== undefined) {
      const page: Page = await call<Page>(mcp.client, 'read_context', { ...readArgs, line });
      text += page.text;
      line = page.more ? page.next?.line : undefined;
    }
    expect(text).toBe(context);
    // The subagent's thinking: the line of the context the task asks about.
    const summary = text.split('\n').find((l) => l.includes(claimed.task.data.keyword));

    await call(mcp.client, 'renew_lease', argsOf(step('renew_lease'), { claim: claimed.claim }));
    const reported = await call<{ outcome: string; findingId: string }>(mcp.client, 'report_finding', {
      ...argsOf(step('report_finding'), { claim: claimed.claim, summary }),
      data: { question: claimed.task.description },
    });
    expect(reported.outcome).toBe('completed');

    // The subagent exits; Claude Code closes its server. The finding is in Redis for the parent.
    await mcp.close();
    await until(() => !isAlive(pid), 'the MCP server to exit with its client');
    const findings = await bus.readFindings(swarm);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      id: reported.findingId,
      taskId: posted.id,
      swarm,
      type: 'ask',
      summary: 'Worker bees live about six weeks in summer.',
      data: { question: 'How long does a worker bee live?' },
      contextVersion: ref,
      attempt: 1,
    });
    expect((await bus.status(swarm)).types).toEqual([expect.objectContaining({ waiting: 0, inFlight: 0 })]);
  });

  it('fails a task it cannot do, as the prompt says, and the task is retried', async () => {
    const swarm = 'research';
    const posted = await bus.post(swarm, 'review', { description: 'Review the attached file' });
    const entry = mcpServer({ SWARM_REDIS_URL: redis.url });
    const mcp = await connectStdio(entry.args.slice(1), entry.env, {
      command: process.execPath,
      args: [SWARM_BIN, entry.args[0] as string],
    });
    try {
      const step = (tool: string) =>
        agent.steps.find((s) => s.tool === tool) as { tool: string; args: string };
      const claimed = await call<{ claim: string; task: { id: string } }>(
        mcp.client,
        'claim_task',
        argsOf(step('claim_task'), { swarm, type: 'review' }),
      );
      expect(claimed.task.id).toBe(posted.id);
      const failed = await call(
        mcp.client,
        'fail_task',
        argsOf(step('fail_task'), { claim: claimed.claim, why: 'no file is attached' }),
      );
      expect(failed).toMatchObject({ outcome: 'retry', attempt: 2 });
    } finally {
      await mcp.close();
    }
  });
});
