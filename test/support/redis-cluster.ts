import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { nodeIsReady } from '../../packages/bench/src/redis-cluster';
import { freePort } from './redis-server';
import { until } from './until';

const run = promisify(execFile);

/** One redis-server of a local cluster, which a test may kill or freeze. */
export interface RedisClusterNode {
  readonly port: number;
  readonly url: string;
  /** SIGKILL: its replica is promoted once the cluster's node timeout has passed. */
  kill(): Promise<void>;
  /**
   * Starts a killed node again on its port with its cluster config: a primary that was failed
   * over rejoins as a replica of the node that took its place (what a supervisor's restart does).
   */
  restart(): Promise<void>;
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
  /**
   * Closes the links of `primary` to its replicas (CLIENT KILL TYPE replica). A replica that is
   * frozen cannot reconnect, so what the primary writes from then on is on the primary alone.
   */
  cutReplicaLinks(primary: RedisClusterNode): Promise<number>;
  /** The node's `master_repl_offset`: how far its replication stream has come, in bytes. */
  replicationOffset(node: RedisClusterNode): Promise<number>;
  /** True when `node` is a replica whose link to its primary is up. */
  isSyncedReplica(node: RedisClusterNode): Promise<boolean>;
  /** The replica of `primary`, as the primary itself tells it (CLUSTER NODES). */
  replicaOf(primary: RedisClusterNode): Promise<RedisClusterNode>;
  /**
   * Moves `slot` to the primary `to` while clients use it, the way `redis-cli --cluster reshard`
   * does: IMPORTING on `to`, MIGRATING on the owner, MIGRATE of every key in the slot, then
   * `SETSLOT … NODE` on both ends and on every other primary.
   */
  migrateSlot(slot: number, to: RedisClusterNode): Promise<{ keys: number }>;
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

class NodeExitedError extends Error {}

/**
 * A port for a cluster node: free, and so is port + 10000, the node's cluster bus. A free port
 * alone was not enough: a node whose bus port was taken exited, and the harness waited on it.
 */
async function clusterPort(): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (port + 10_000 > 65_535) continue;
    const busFree = await new Promise<boolean>((resolve) => {
      const probe = createServer();
      probe.unref();
      probe.once('error', () => resolve(false));
      probe.listen(port + 10_000, '127.0.0.1', () => probe.close(() => resolve(true)));
    });
    if (busFree) return port;
  }
}

/** Starts a node on a cluster port, on another one if it exits (a port taken between the probe and the start). */
async function startNodeOnFreePort(
  dir: string,
  nodeTimeoutMs: number,
): Promise<{ port: number; child: ChildProcess }> {
  for (let attempt = 1; ; attempt++) {
    const port = await clusterPort();
    try {
      return { port, child: await startNode(port, dir, nodeTimeoutMs) };
    } catch (error) {
      if (!(error instanceof NodeExitedError) || attempt >= 5) throw error;
    }
  }
}

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
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  running.add(child);
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-2_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  child.once('exit', () => running.delete(child));
  const client = new Redis(port, '127.0.0.1', {
    lazyConnect: true,
    retryStrategy: () => 50,
    maxRetriesPerRequest: 0,
  });
  client.on('error', () => {});
  try {
    await until(
      async () => {
        // A node that exited (its port or its bus port, port + 10000, taken meanwhile) never will.
        if (child.exitCode !== null || child.signalCode !== null)
          throw new NodeExitedError(`redis-server on port ${port} exited: ${output.trim()}`);
        return (await client.ping().catch(() => '')) === 'PONG';
      },
      `redis-server on port ${port} to answer`,
      10_000,
    );
  } finally {
    client.disconnect();
  }
  return child;
}

export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisCluster> {
  const primaries = options.primaries ?? 3;
  const nodeTimeoutMs = options.nodeTimeoutMs ?? 2_000;
  const dir = mkdtempSync(join(tmpdir(), 'swarm-cluster-'));
  const started = await Promise.all(
    Array.from({ length: primaries * 2 }, () => startNodeOnFreePort(dir, nodeTimeoutMs)),
  );
  const ports = started.map((node) => node.port);
  const children = started.map((node) => node.child);
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
    async () => (await Promise.all(ports.map((port) => nodeIsReady(port, primaries)))).every(Boolean),
    'every node of the cluster to be ok and every replica in sync',
    30_000,
  );
  const nodes: RedisClusterNode[] = ports.map((port, i) => {
    let child = children[i] as ChildProcess;
    return {
      port,
      url: `redis://127.0.0.1:${port}`,
      async kill() {
        child.kill('SIGCONT');
        child.kill('SIGKILL');
        if (child.exitCode === null && child.signalCode === null)
          await new Promise<void>((resolve) => child.once('exit', () => resolve()));
      },
      async restart() {
        if (child.exitCode === null && child.signalCode === null)
          throw new Error(`the node on port ${port} is still running: kill it first`);
        child = await startNode(port, dir, nodeTimeoutMs);
      },
      pause: () => child.kill('SIGSTOP'),
      resume: () => child.kill('SIGCONT'),
    };
  });
  const cluster: RedisCluster = {
    nodes,
    url: `redis://${ports.map((port) => `127.0.0.1:${port}`).join(',')}`,
    async primaryOf(slot) {
      for (const node of nodes) {
        try {
          const ranges = (await withNode(node, (c) => c.cluster('SLOTS'))) as unknown as [
            number,
            number,
            [string, number],
          ][];
          const range = ranges.find(([from, to]) => slot >= from && slot <= to);
          const primary = nodes.find((n) => n.port === range?.[2]?.[1]);
          if (primary) return primary;
        } catch {
          // A dead or frozen node: ask the next.
        }
      }
      throw new Error(`no node of the cluster serves slot ${slot}`);
    },
    async cutReplicaLinks(primary) {
      return Number(await withNode(primary, (c) => c.call('CLIENT', 'KILL', 'TYPE', 'replica')));
    },
    async replicationOffset(node) {
      const replication = await withNode(node, (c) => c.info('replication'));
      return Number(/^master_repl_offset:(\d+)/m.exec(replication)?.[1]);
    },
    async isSyncedReplica(node) {
      const replication = await withNode(node, (c) => c.info('replication')).catch(() => '');
      return replication.includes('role:slave') && replication.includes('master_link_status:up');
    },
    async replicaOf(primary) {
      return withNode(primary, async (client) => {
        const id = String(await client.cluster('MYID'));
        const line = clusterNodes(String(await client.cluster('NODES'))).find((n) => n.primaryId === id);
        const replica = nodes.find((n) => n.port === line?.port);
        if (!replica) throw new Error(`no replica of the primary on port ${primary.port}`);
        return replica;
      });
    },
    async migrateSlot(slot, to) {
      const from = await cluster.primaryOf(slot);
      if (from === to) return { keys: 0 };
      const idOf = (node: RedisClusterNode) => withNode(node, async (c) => String(await c.cluster('MYID')));
      const [fromId, toId] = [await idOf(from), await idOf(to)];
      await withNode(to, (c) => c.call('CLUSTER', 'SETSLOT', slot, 'IMPORTING', fromId));
      await withNode(from, (c) => c.call('CLUSTER', 'SETSLOT', slot, 'MIGRATING', toId));
      let moved = 0;
      await withNode(
        from,
        async (c) => {
          for (;;) {
            const keys = (await c.call('CLUSTER', 'GETKEYSINSLOT', slot, 100)) as string[];
            if (keys.length === 0) break;
            await c.call('MIGRATE', '127.0.0.1', to.port, '', 0, 20_000, 'KEYS', ...keys);
            moved += keys.length;
          }
        },
        30_000,
      );
      // The new owner first, so that the old one's MOVED never points at a node that would
      // bounce the client back (as redis-cli does).
      await withNode(to, (c) => c.call('CLUSTER', 'SETSLOT', slot, 'NODE', toId));
      await withNode(from, (c) => c.call('CLUSTER', 'SETSLOT', slot, 'NODE', toId));
      for (const node of nodes)
        if (node !== from && node !== to)
          await withNode(node, async (c) => {
            if (String(await c.info('replication')).includes('role:master'))
              await c.call('CLUSTER', 'SETSLOT', slot, 'NODE', toId);
          }).catch(() => {});
      return { keys: moved };
    },
    async stop() {
      await Promise.all(nodes.map((node) => node.kill()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return cluster;
}

/** One line of CLUSTER NODES: `<id> <ip:port@cport> <flags> <primary id or -> …`. */
function clusterNodes(reply: string): { id: string; port: number; flags: string[]; primaryId: string }[] {
  return reply
    .trim()
    .split('\n')
    .map((line) => {
      const [id = '', address = '', flags = '', primaryId = ''] = line.split(' ');
      return { id, port: Number(address.split('@')[0]?.split(':')[1]), flags: flags.split(','), primaryId };
    });
}

/**
 * A short-lived connection to one node, for an admin command. A frozen node (SIGSTOP) still
 * accepts the connection but never answers: time out instead of hanging.
 */
async function withNode<T>(
  node: RedisClusterNode,
  use: (client: Redis) => Promise<T>,
  timeoutMs = 2_000,
): Promise<T> {
  const client = new Redis(node.port, '127.0.0.1', {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    enableReadyCheck: false,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    return await use(client);
  } finally {
    client.disconnect();
  }
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
