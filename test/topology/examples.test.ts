import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadTopology } from '@swarm/core';
import { describe, expect, it } from 'vitest';

const dir = join(import.meta.dirname, '../../config/examples');

describe('example topologies', () => {
  it.each(readdirSync(dir).filter((f) => f.endsWith('.yaml')))('%s is valid', (name) => {
    const { topology } = loadTopology(join(dir, name), { env: {} });
    expect(Object.keys(topology.swarms).length).toBeGreaterThan(0);
  });

  it('fills defaults and interpolates the environment', () => {
    const { topology } = loadTopology(join(dir, 'hello.yaml'), { env: { SWARM_REDIS_URL: 'redis://h:1' } });
    expect(topology.transport.redis).toBe('redis://h:1');
    expect(topology.swarms.hello?.workers[0]).toMatchObject({
      type: 'ask',
      concurrency: 2,
      leaseMs: 30_000,
      maxAttempts: 3,
      isolation: 'none',
    });
    expect(loadTopology(join(dir, 'hello.yaml'), { env: {} }).topology.transport.redis).toBe('');
  });
});
