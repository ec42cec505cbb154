import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { RedisBus } from '@swarm/core';
import { type BenchContext, type Benchmark, Rows, runName } from '../benchmark';
import { deleteSwarmKeys } from '../cleanup';
import { summarize } from '../stats';

/**
 * What an agent pays per task to take part through `swarm mcp`: `claim_task` + `report_finding`
 * round trips from the SDK's own client to a real `swarm mcp` child over stdio, beside the same
 * two calls on the bus in-process, and beside `swarm claim` + `swarm report` as fresh processes.
 */

const run = promisify(execFile);
const CLI_DIR = fileURLToPath(new URL('../../../cli/', import.meta.url));
const CLI = join(CLI_DIR, 'dist/swarm.mjs');
const TYPE = 'ask';

interface Sample {
  claim: number;
  report: number;
}

/** One worker's way of settling a task: claim it, then report it; each call timed. */
type Worker = (swarm: string) => Promise<Sample>;

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const value = await work();
  return [value, performance.now() - start];
}

async function callTool(client: Client, name: string, args: Record<string, unknown>) {
  const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
  if (result.isError) throw new Error(`${name}: ${JSON.stringify(result.content)}`);
  return result.structuredContent as Record<string, unknown>;
}

function mcpWorker(client: Client): Worker {
  return async (swarm) => {
    const [claimed, claim] = await timed(() =>
      callTool(client, 'claim_task', { swarm, type: TYPE, waitMs: 0 }),
    );
    if (claimed.outcome !== 'claimed')
      throw new Error(`claim_task found no task: ${JSON.stringify(claimed)}`);
    const [reported, report] = await timed(() =>
      callTool(client, 'report_finding', { claim: claimed.claim, summary: 'done' }),
    );
    if (reported.outcome !== 'completed') throw new Error(`report_finding: ${JSON.stringify(reported)}`);
    return { claim, report };
  };
}

function busWorker(bus: RedisBus): Worker {
  return async (swarm) => {
    const [claimed, claim] = await timed(() => bus.claim(swarm, TYPE));
    if (!claimed) throw new Error('bus.claim found no task');
    const [reported, report] = await timed(() => bus.report(claimed.handle, { summary: 'done' }));
    if (reported.outcome !== 'completed') throw new Error(`bus.report: ${reported.outcome}`);
    return { claim, report };
  };
}

function cliWorker(ctx: BenchContext): Worker {
  const env = { ...process.env, SWARM_REDIS_URL: ctx.redisUrl };
  const swarmCli = (args: string[]) => run(process.execPath, [CLI, ...args], { env });
  return async (swarm) => {
    const [claimed, claim] = await timed(() => swarmCli(['claim', swarm, TYPE, '--wait', '0', '--json']));
    const handle = (JSON.parse(claimed.stdout) as { claim: string }).claim;
    const [, report] = await timed(() => swarmCli(['report', handle, '--summary', 'done']));
    return { claim, report };
  };
}

async function measure(
  bus: RedisBus,
  worker: Worker,
  samples: number,
  warmup: number,
): Promise<{ claim: number[]; report: number[]; total: number[] }> {
  const swarm = runName('bench-mcp');
  const out = { claim: [] as number[], report: [] as number[], total: [] as number[] };
  try {
    await bus.postBatch(
      swarm,
      TYPE,
      Array.from({ length: samples + warmup }, (_, i) => ({ description: `task ${i}` })),
    );
    for (let i = 0; i < samples + warmup; i++) {
      const { claim, report } = await worker(swarm);
      if (i < warmup) continue;
      out.claim.push(claim);
      out.report.push(report);
      out.total.push(claim + report);
    }
    const findings = (await bus.status(swarm)).findings;
    if (findings !== samples + warmup)
      throw new Error(`${findings} findings for ${samples + warmup} tasks: a report was lost or doubled`);
    return out;
  } finally {
    await deleteSwarmKeys(bus, swarm).catch(() => 0);
  }
}

export const mcp: Benchmark = {
  name: 'mcp',
  summary: 'claim_task + report_finding through a `swarm mcp` child over stdio, beside the bus and the CLI',
  flags: {
    samples: { default: 1_000, help: 'tasks claimed and reported through MCP and the bus' },
    warmup: { default: 50, help: 'unmeasured tasks first' },
    'cli-samples': { default: 20, help: 'tasks settled with `swarm claim` + `swarm report` processes' },
  },
  async run(ctx) {
    const samples = ctx.int('samples');
    const warmup = ctx.int('warmup');
    const cliSamples = ctx.int('cli-samples');
    ctx.log('building the CLI bundle (packages/cli/build.mjs)');
    await run(process.execPath, [join(CLI_DIR, 'build.mjs')]);
    const bus = new RedisBus({ url: ctx.redisUrl });
    const client = new Client({ name: 'swarm-bench', version: '1.0.0' });
    const out = new Rows('mcp');
    try {
      const [, startMs] = await timed(() =>
        client.connect(
          new StdioClientTransport({
            command: process.execPath,
            args: [CLI, 'mcp'],
            env: { ...(process.env as Record<string, string>), SWARM_REDIS_URL: ctx.redisUrl },
            stderr: 'ignore',
          }),
        ),
      );
      out.add('mcp', 'connect_ms', startMs, 'ms');
      const systems: [string, Worker, number, number][] = [
        ['bus', busWorker(bus), samples, warmup],
        ['mcp', mcpWorker(client), samples, warmup],
        ['cli', cliWorker(ctx), cliSamples, Math.min(warmup, 2)],
      ];
      for (const [system, worker, count, unmeasured] of systems) {
        ctx.log(`${system}: ${count} tasks`);
        const times = await measure(bus, worker, count, unmeasured);
        out.addLatency(system, 'claim_', summarize(times.claim));
        out.addLatency(system, 'report_', summarize(times.report));
        out.addLatency(system, 'claim_report_', summarize(times.total));
      }
    } finally {
      await client.close();
      await bus.close();
    }
    return {
      rows: out.rows,
      notes: [
        `${samples} tasks through MCP and the bus, ${cliSamples} through the CLI, after unmeasured ones; tasks posted first, so every claim finds one`,
        'mcp: the SDK client calling claim_task (waitMs 0) then report_finding on `node packages/cli/dist/swarm.mjs mcp`, over stdio',
        'bus: bus.claim then bus.report in the benchmark process; cli: `swarm claim --wait 0 --json` then `swarm report`, one fresh process each',
        'connect_ms: spawning `swarm mcp` and the MCP initialize handshake; p50/p99 are nearest-rank percentiles',
      ],
    };
  },
};
