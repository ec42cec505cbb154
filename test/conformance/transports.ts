import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type Bus,
  type BusOptions,
  CONSUMER_GROUP,
  keys,
  ManualClock,
  MemoryBus,
  RedisBus,
  type RedisClient,
} from '@swarm/core';
import { Cluster, Redis } from 'ioredis';
import { type RedisClusterNode, startRedisCluster } from '../support/redis-cluster';
import { startRedisServer } from '../support/redis-server';

/**
 * What the conformance suite needs from a transport. MemoryBus runs on a ManualClock, so
 * `elapse` is instant; RedisBus runs on real time against a private redis-server.
 */
export interface TransportEnv {
  readonly name: string;
  /** A new bus on the same data, as another process would see it. */
  bus(options?: BusOptions): Bus;
  elapse(ms: number): Promise<void>;
  /** Writes a task entry as a foreign client would, fields untouched. */
  appendRaw(swarm: string, type: string, fields: Record<string, string>): Promise<void>;
  /** Writes a finding entry as a foreign client would, fields untouched. */
  appendRawFinding(swarm: string, fields: Record<string, string>): Promise<void>;
  /**
   * As if `consumer` had stopped renewing (a frozen process): reclaimers hold its deliveries to
   * `leaseMs` from now on, whatever lease it recorded, so a test need not wait out a long lease.
   */
  stallConsumer(swarm: string, type: string, consumer: string, leaseMs: number): Promise<void>;
  /** Deletes a consumer's lease record, as pruning does to one that looked idle. */
  forgetLease(swarm: string, type: string, consumer: string): Promise<void>;
  /** Makes a consumer that reads once and is never seen again, as a SIGKILLed worker leaves behind. */
  ghostConsumer(swarm: string, type: string, name: string): Promise<void>;
  /** On a cluster: the primary (host:port) that holds a key's slot. */
  primaryOf?(key: string): Promise<string>;
  /** Deletes one field of a stored context blob, as if a chunk had been lost. */
  dropContextField(swarm: string, ref: string, field: string): Promise<void>;
  teardown(): Promise<void>;
}

export function uniqueSwarm(): string {
  return `s${randomUUID().slice(0, 8)}`;
}

/** Makes a fresh env per test; `dispose` releases what the envs shared (the Redis server). */
export interface EnvFactory {
  create(): Promise<TransportEnv>;
  dispose(): Promise<void>;
}

export function memoryEnv(): EnvFactory {
  const create = async (): Promise<TransportEnv> => {
    const clock = new ManualClock();
    let root: MemoryBus | undefined;
    const buses: Bus[] = [];
    return {
      name: 'MemoryBus',
      bus(options) {
        const bus = new MemoryBus({ ...options, clock, ...(root ? { shareWith: root } : {}) });
        root ??= bus;
        buses.push(bus);
        return bus;
      },
      elapse: (ms) => clock.advance(ms),
      async appendRaw(swarm, type, fields) {
        root ??= new MemoryBus({ clock });
        root.memory.stream(keys.tasks(swarm, type)).append(fields, clock.now());
      },
      async appendRawFinding(swarm, fields) {
        root ??= new MemoryBus({ clock });
        root.memory.stream(keys.findings(swarm)).append(fields, clock.now());
      },
      async dropContextField(swarm, ref, field) {
        root?.memory.blob(swarm, ref)?.delete(field);
      },
      async stallConsumer(swarm, type, consumer, leaseMs) {
        root?.memory.stream(keys.tasks(swarm, type)).leases.set(consumer, leaseMs);
      },
      async forgetLease(swarm, type, consumer) {
        root?.memory.stream(keys.tasks(swarm, type)).leases.delete(consumer);
      },
      async ghostConsumer(swarm, type, name) {
        root ??= new MemoryBus({ clock });
        root.memory.stream(keys.tasks(swarm, type)).consumers.set(name, clock.now());
      },
      async teardown() {
        await Promise.all(buses.map((b) => b.close()));
      },
    };
  };
  return { create, dispose: async () => {} };
}

/** A Redis for the conformance suite: where buses connect, and a raw client of its own. */
interface RedisTarget {
  url: string;
  raw(): RedisClient;
  stop(): Promise<void>;
  cluster?: boolean;
}

export function redisEnv(): EnvFactory {
  return redisLikeEnv('RedisBus', async () => {
    const server = await startRedisServer();
    return { url: server.url, raw: () => new Redis(server.url, { protocol: 2 }), stop: () => server.stop() };
  });
}

/**
 * The same suite on a local Redis Cluster of three primaries. The buses are given one node only,
 * so they find out it is a cluster by themselves; each test's swarm lands on whichever slot its
 * name hashes to.
 */
export function clusterEnv(): EnvFactory {
  return redisLikeEnv('RedisBus on a cluster', async () => {
    const cluster = await startRedisCluster();
    const seed = cluster.nodes[0] as RedisClusterNode;
    return {
      url: seed.url,
      raw: () =>
        new Cluster(
          cluster.nodes.map((n) => ({ host: '127.0.0.1', port: n.port })),
          { redisOptions: { protocol: 2 } },
        ),
      stop: () => cluster.stop(),
      cluster: true,
    };
  });
}

function redisLikeEnv(name: string, start: () => Promise<RedisTarget>): EnvFactory {
  let target: Promise<RedisTarget> | undefined;
  const create = async (): Promise<TransportEnv> => {
    target ??= start();
    const { url, raw: open, cluster } = await target;
    const raw = open();
    const buses: Bus[] = [];
    return {
      name,
      ...(cluster
        ? {
            async primaryOf(key: string) {
              const slot = Number(await raw.call('CLUSTER', 'KEYSLOT', key));
              const ranges = (await raw.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
              const range = ranges.find(([from, to]) => slot >= from && slot <= to);
              return range ? `${range[2][0]}:${range[2][1]}` : '';
            },
          }
        : {}),
      bus(options) {
        const bus = new RedisBus({ ...options, url });
        buses.push(bus);
        return bus;
      },
      elapse: (ms) => sleep(ms),
      async appendRaw(swarm, type, fields) {
        await raw.xadd(keys.tasks(swarm, type), '*', ...Object.entries(fields).flat());
      },
      async appendRawFinding(swarm, fields) {
        await raw.xadd(keys.findings(swarm), '*', ...Object.entries(fields).flat());
      },
      async dropContextField(swarm, ref, field) {
        await raw.hdel(keys.context(swarm, ref), field);
      },
      async stallConsumer(swarm, type, consumer, leaseMs) {
        await raw.hset(keys.leases(swarm, type), consumer, leaseMs);
      },
      async forgetLease(swarm, type, consumer) {
        await raw.hdel(keys.leases(swarm, type), consumer);
      },
      async ghostConsumer(swarm, type, name) {
        const stream = keys.tasks(swarm, type);
        // It took a task and settled it, so it owns nothing, as a worker killed between tasks.
        await raw.call('XGROUP', 'CREATE', stream, CONSUMER_GROUP, '$', 'MKSTREAM').catch(() => {});
        const id = String(await raw.call('XADD', stream, '*', 'task', '{}'));
        await raw.call('XREADGROUP', 'GROUP', CONSUMER_GROUP, name, 'COUNT', '1', 'STREAMS', stream, '>');
        await raw.call('XACK', stream, CONSUMER_GROUP, id);
        await raw.call('XDEL', stream, id);
      },
      async teardown() {
        await Promise.all(buses.map((b) => b.close()));
        raw.disconnect();
      },
    };
  };
  return { create, dispose: async () => (await target)?.stop() };
}

/** Waits for a condition, moving the env's time in small steps. */
export async function until(
  env: TransportEnv,
  condition: () => boolean,
  limitMs = 10_000,
  stepMs = 25,
): Promise<void> {
  for (let waited = 0; !condition(); waited += stepMs) {
    if (waited > limitMs) throw new Error(`condition not met within ${limitMs} ms of ${env.name} time`);
    await env.elapse(stepMs);
  }
}

/** Settles a promise while the env's time moves (a MemoryBus waits on its ManualClock). */
export async function settle<T>(env: TransportEnv, work: Promise<T>): Promise<T> {
  let done = false;
  const result = work.finally(() => {
    done = true;
  });
  await until(env, () => done, 30_000);
  return result;
}
