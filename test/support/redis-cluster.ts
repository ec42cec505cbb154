import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { freePort } from './redis-server';
import { until } from './until';

const run = promisify(execFile);

/** One redis-server of a local cluster, which a test may kill or freeze. */
export interface RedisClusterNode {
  readonly port: number;
  readonly url: string;
  /** SIGKILL: its replica is promoted once the cluster's node timeout has passed. */
  kill(): Promise<void>;
  /** SIGSTOP, and SIGCONT. */
  pause(): void;
  resume(): void;
}

/**
 * A real Redis Cluster on this machine for one test file: `primaries` primaries with one replica
 * each, on free ports, ready when every node says `cluster_state:ok` and every replica's link to
 * its primary is up (a replica that has not finished its first sync cannot be promoted).
 */
export interface RedisCluster {
  readonly nodes: readonly RedisClusterNode[];
  /** Every node as one seed list, `redis://127.0.0.1:7000,127.0.0.1:7001,…`. */
  readonly url: string;
  /** The node serving `slot` as primary now (it changes after a failover). */
  primaryOf(slot: number): Promise<RedisClusterNode>;
  stop(): Promise<void>;
}

export interface RedisClusterOptions {
  primaries?: number;
  /** How long a silent primary is given before its replica takes over (default 2,000 ms). */
  nodeTimeoutMs?: number;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

async function startNode(port: number, dir: string, nodeTimeoutMs: number): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      `nodes-${port}.conf`,
      '--cluster-node-timeout',
      String(nodeTimeoutMs),
      // Replicas sync at once, so the cluster can fail over as soon as the test begins.
      '--repl-diskless-sync-delay',
      '0',
      '--save',
      '',
      '--appendonly',
      'no',
    ],
    { stdio: 'ignore' },
  );
  running.add(child);
  child.once('exit', () => running.delete(child));
  const client = new Redis(port, '127.0.0.1', {
    lazyConnect: true,
    retryStrategy: () => 50,
    maxRetriesPerRequest: 0,
  });
  client.on('error', () => {});
  try {
    await until(
      async () => (await client.ping().catch(() => '')) === 'PONG',
      `redis-server on port ${port} to answer`,
      10_000,
    );
  } finally {
    client.disconnect();
  }
  return child;
}

/** Asks every node a question; true when each answer passes. */
async function everyNode(ports: number[], check: (client: Redis) => Promise<boolean>): Promise<boolean> {
  const answers = await Promise.all(
    ports.map(async (port) => {
      const client = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0 });
      client.on('error', () => {});
      try {
        await client.connect();
        return await check(client);
      } catch {
        return false;
      } finally {
        client.disconnect();
      }
    }),
  );
  return answers.every(Boolean);
}

export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisCluster> {
  const primaries = options.primaries ?? 3;
  const nodeTimeoutMs = options.nodeTimeoutMs ?? 2_000;
  const dir = mkdtempSync(join(tmpdir(), 'swarm-cluster-'));
  const ports: number[] = [];
  for (let i = 0; i < primaries * 2; i++) ports.push(await freePort());
  const children = await Promise.all(ports.map((port) => startNode(port, dir, nodeTimeoutMs)));
  await run('redis-cli', [
    '--cluster',
    'create',
    ...ports.map((port) => `127.0.0.1:${port}`),
    '--cluster-replicas',
    '1',
    '--cluster-yes',
  ]);
  // Ready when every node sees the whole cluster ok with `primaries` replicas in it, and each
  // replica's link to its primary is up (redis-cli returns before the replicas have switched).
  await until(
    () =>
      everyNode(ports, async (client) => {
        if (!String(await client.cluster('INFO')).includes('cluster_state:ok')) return false;
        const replicas = String(await client.cluster('NODES'))
          .trim()
          .split('\n')
          .filter((line) => (line.split(' ')[2] ?? '').split(',').includes('slave'));
        if (replicas.length !== primaries) return false;
        const replication = String(await client.info('replication'));
        return replication.includes('role:master') || replication.includes('master_link_status:up');
      }),
    'every node of the cluster to be ok and every replica in sync',
    30_000,
  );
  const nodes: RedisClusterNode[] = ports.map((port, i) => {
    const child = children[i] as ChildProcess;
    return {
      port,
      url: `redis://127.0.0.1:${port}`,
      async kill() {
        child.kill('SIGCONT');
        child.kill('SIGKILL');
        if (child.exitCode === null && child.signalCode === null)
          await new Promise<void>((resolve) => child.once('exit', () => resolve()));
      },
      pause: () => child.kill('SIGSTOP'),
      resume: () => child.kill('SIGCONT'),
    };
  });
  return {
    nodes,
    url: `redis://${ports.map((port) => `127.0.0.1:${port}`).join(',')}`,
    async primaryOf(slot) {
      for (const node of nodes) {
        const client = new Redis(node.port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0 });
        client.on('error', () => {});
        try {
          await client.connect();
          const ranges = (await client.cluster('SLOTS')) as unknown as [number, number, [string, number]][];
          const range = ranges.find(([from, to]) => slot >= from && slot <= to);
          const port = range?.[2]?.[1];
          const primary = nodes.find((n) => n.port === port);
          if (primary) return primary;
        } catch {
          // A dead node: ask the next.
        } finally {
          client.disconnect();
        }
      }
      throw new Error(`no node of the cluster serves slot ${slot}`);
    },
    async stop() {
      await Promise.all(nodes.map((node) => node.kill()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A cluster for one describe block: started in beforeAll, stopped in afterAll. */
export function useRedisCluster(options: RedisClusterOptions = {}): { readonly cluster: RedisCluster } {
  let started: RedisCluster | undefined;
  beforeAll(async () => {
    started = await startRedisCluster(options);
  }, 60_000);
  afterAll(async () => {
    await started?.stop();
  });
  return {
    get cluster() {
      if (!started)
        throw new Error('useRedisCluster(): the cluster starts in beforeAll; read it in a hook or test');
      return started;
    },
  };
}
