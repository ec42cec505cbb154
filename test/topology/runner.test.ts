import { join } from 'node:path';
import { loadTopology, MemoryBus } from '@swarm/core';
import { describe, expect, it } from 'vitest';
import { cliLogger } from '../../packages/cli/src/require-redis';
import { awaitSubscribers, startTopology } from '../../packages/cli/src/topology-runner';

const fixture = join(import.meta.dirname, '../fixtures/topologies/good/filtered-digest.yaml');

describe('topology runner', () => {
  it('starts a custom actor whose subscription filters by type, tag and a predicate module', async () => {
    const bus = new MemoryBus();
    const loaded = loadTopology(fixture);
    const running = await startTopology(loaded, bus, cliLogger());
    const publish = (swarm: string, type: string, tags: string[], risk: boolean) =>
      bus.publish(swarm, {
        type,
        summary: `${swarm} ${type} ${tags.join(',')} ${risk}`,
        tags,
        data: { risk },
      });
    await publish('src-a', 'scan', ['prod'], true); // kept
    await publish('src-a', 'scan', ['prod'], false); // predicate says no
    await publish('src-a', 'scan', ['dev'], true); // wrong tag
    await publish('src-b', 'review', ['prod'], true); // wrong type
    await publish('src-b', 'scan', ['prod', 'x'], true); // kept
    await publish('elsewhere', 'scan', ['prod'], true); // not followed
    expect(await awaitSubscribers(bus, running.actors)).toBe(true);
    await running.stop();
    const [summary] = await bus.readFindings('ops');
    expect(summary?.data).toMatchObject({ count: 2, bySwarm: { 'src-a': 1, 'src-b': 1 } });
    await bus.close();
  });
});
