import { Redis } from 'ioredis';
import type { WorkerChild } from '../children';

/** Every redis-server whose CPU a round pays for. */
export interface Servers {
  primaries: string[];
  replicas: string[];
}

export interface CpuSnapshot {
  clientsMs: number;
  primariesMs: number;
  replicasMs: number;
}

/** CPU time a redis-server has used since it started (`INFO cpu`), in ms. */
async function redisCpuMs(url: string): Promise<number> {
  const client = new Redis(url, { protocol: 2, lazyConnect: true, maxRetriesPerRequest: 0 });
  client.on('error', () => {});
  try {
    await client.connect();
    const info = await client.info('cpu');
    const seconds = (field: string) => Number(new RegExp(`^${field}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0);
    return (seconds('used_cpu_user') + seconds('used_cpu_sys')) * 1000;
  } finally {
    client.disconnect();
  }
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

/** CPU used so far by this process, the workers and the redis-servers. */
export async function cpuSnapshot(workers: WorkerChild[], servers: Servers): Promise<CpuSnapshot> {
  const own = process.cpuUsage();
  const fromWorkers = await Promise.all(
    workers.map(async (worker) => {
      worker.send({ type: 'cpu' });
      const usage = await worker.next('cpu', 10_000);
      return (Number(usage.user) + Number(usage.system)) / 1000;
    }),
  );
  const [primaries, replicas] = await Promise.all([
    Promise.all(servers.primaries.map(redisCpuMs)),
    Promise.all(servers.replicas.map(redisCpuMs)),
  ]);
  return {
    clientsMs: (own.user + own.system) / 1000 + sum(fromWorkers),
    primariesMs: sum(primaries),
    replicasMs: sum(replicas),
  };
}
