import { cpus, totalmem } from 'node:os';
import { Redis } from 'ioredis';

/** What the figures were measured on; stored with every results file. */
export interface Machine {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  node: string;
  platform: string;
  redisServer: string;
  date: string;
}

export async function describeMachine(redisUrl: string): Promise<Machine> {
  const cpuList = cpus();
  return {
    cpuModel: cpuList[0]?.model.trim() ?? 'unknown',
    cores: cpuList.length,
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    redisServer: await redisVersion(redisUrl),
    date: new Date().toISOString(),
  };
}

async function redisVersion(url: string): Promise<string> {
  const client = new Redis(url, { protocol: 2, lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await client.connect();
    const info = await client.info('server');
    return /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
  } catch {
    return 'unknown';
  } finally {
    client.disconnect();
  }
}
