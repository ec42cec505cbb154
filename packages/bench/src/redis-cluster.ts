import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { type PrivateRedis, startPrivateRedis } from './redis-server';

const run = promisify(execFile);

/**
 * A private Redis Cluster for one benchmark run: `primaries` primaries with one replica each, on
 * free ports, ready when every node says `cluster_state:ok` and every replica's link to its
 * primary is up (a replica that has not finished its first sync cannot be promoted).
 */
export interface PrivateRedisCluster {
  readonly nodes: readonly PrivateRedis[];
  /** Every node as one seed list, `redis://127.0.0.1:7000,127.0.0.1:7001,…`. */
  readonly url: string;
  readonly nodeTimeoutMs: number;
  /** `CLUSTER KEYSLOT key`, asked of a live node. */
  slotOf(key: string): Promise<number>;
  /** The node serving `slot` as primary now (it changes after a failover), from `CLUSTER SLOTS`. */
  primaryOf(slot: number): Promise<PrivateRedis>;
  /** The nodes serving slots as primaries now; the others are replicas (or dead). */
  primaries(): Promise<PrivateRedis[]>;
  stop(): Promise<void>;
}

export interface PrivateRedisClusterOptions {
  primaries?: number;
  /** How long a silent primary is given before its replica takes over (default 2,000 ms). */
  nodeTimeoutMs?: number;
  /** How long the cluster may take to form (default 30 s). */
  readyWithinMs?: number;
}

/** One short-lived connection to one node, for a question; it never retries. */
async function askNode<T>(port: number, question: (client: Redis) => Promise<T>): Promise<T> {
  const client = new Redis(port, '127.0.0.1', {
    protocol: 2,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    return await question(client);
  } finally {
    client.disconnect();
  }
}

/** Whether this node sees the whole cluster formed: state ok, every replica in, its own link up. */
export async function nodeIsReady(port: number, primaries: number): Promise<boolean> {
  return askNode(port, async (client) => {
    if (!String(await client.cluster('INFO')).includes('cluster_state:ok')) return false;
    const replicas = String(await client.cluster('NODES'))
      .trim()
      .split('\n')
      .filter((line) => (line.split(' ')[2] ?? '').split(',').includes('slave'));
    if (replicas.length !== primaries) return false;
    const replication = String(await client.info('replication'));
    return replication.includes('role:master') || replication.includes('master_link_status:up');
  }).catch(() => false);
}

export async function startPrivateRedisCluster(
  options: PrivateRedisClusterOptions = {},
): Promise<PrivateRedisCluster> {
  const { primaries = 3, nodeTimeoutMs = 2_000, readyWithinMs = 30_000 } = options;
  const dir = mkdtempSync(join(tmpdir(), 'swarm-bench-cluster-'));
  const nodes: PrivateRedis[] = [];
  const stop = async () => {
    await Promise.all(nodes.map((node) => node.kill()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const started = await Promise.all(
      Array.from({ length: primaries * 2 }, (_, i) =>
        startPrivateRedis({
          args: [
            '--dir',
            dir,
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            `nodes-${i}.conf`,
            '--cluster-node-timeout',
            String(nodeTimeoutMs),
            // Replicas sync at once, so the cluster can fail over as soon as it is formed.
            '--repl-diskless-sync-delay',
            '0',
          ],
        }),
      ),
    );
    nodes.push(...started);
    await run('redis-cli', [
      '--cluster',
      'create',
      ...nodes.map((node) => `127.0.0.1:${node.port}`),
      '--cluster-replicas',
      '1',
      '--cluster-yes',
    ]);
    // redis-cli returns before every node has heard of every other and the replicas have synced.
    const deadline = Date.now() + readyWithinMs;
    for (;;) {
      const ready = await Promise.all(nodes.map((node) => nodeIsReady(node.port, primaries)));
      if (ready.every(Boolean)) break;
      if (Date.now() > deadline)
        throw new Error(`the local cluster was not ok with every replica in sync within ${readyWithinMs} ms`);
      await sleep(50);
    }
  } catch (error) {
    await stop();
    throw error;
  }

  /** Asks the first node that answers. */
  const askAnyNode = async <T>(question: (client: Redis) => Promise<T>): Promise<T> => {
    let lastError: unknown;
    for (const node of nodes) {
      try {
        return await askNode(node.port, question);
      } catch (error) {
        lastError = error;
      }
    }
    throw new Error(`no node of the cluster answers: ${String(lastError)}`);
  };

  /** `CLUSTER SLOTS`: [first slot, last slot, [primary host, primary port, …], …replicas]. */
  const slotRanges = async () =>
    (await askAnyNode((client) => client.cluster('SLOTS'))) as unknown as [
      number,
      number,
      [string, number],
    ][];

  return {
    nodes,
    url: `redis://${nodes.map((node) => `127.0.0.1:${node.port}`).join(',')}`,
    nodeTimeoutMs,
    slotOf: (key) => askAnyNode(async (client) => Number(await client.cluster('KEYSLOT', key))),
    async primaryOf(slot) {
      const port = (await slotRanges()).find(([from, to]) => slot >= from && slot <= to)?.[2]?.[1];
      const primary = nodes.find((node) => node.port === port);
      if (!primary) throw new Error(`no node of the cluster serves slot ${slot}`);
      return primary;
    },
    async primaries() {
      const ports = new Set((await slotRanges()).map((range) => range[2]?.[1]));
      return nodes.filter((node) => ports.has(node.port));
    },
    stop,
  };
}
