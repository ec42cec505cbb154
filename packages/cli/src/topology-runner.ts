import {
  type ActorDefinition,
  type Bus,
  checkActors,
  type LoadedTopology,
  loadWhere,
  type RunningActor,
  type SubscriptionSpec,
  type SubscriptionSpecYaml,
  startActor,
  swarmMatcher,
} from '@swarm/core';
import { shardActor } from '@swarm/shard';
import { workerPoolActor } from '@swarm/worker';
import type { Logger } from 'pino';

export interface RunningTopology {
  /** Every actor, in start order: worker pools, custom actors, then shards. */
  readonly actors: RunningActor[];
  /** Stops every actor, shards first (they post), worker pools last (they drain). */
  stop(): Promise<void>;
}

async function toSpec(yaml: SubscriptionSpecYaml, dir: string): Promise<SubscriptionSpec> {
  return {
    swarms: yaml.swarms,
    ...(yaml.types ? { types: yaml.types } : {}),
    ...(yaml.tags ? { tags: yaml.tags } : {}),
    ...(yaml.where ? { where: await loadWhere(yaml.where, dir) } : {}),
    from: yaml.from === 'start' || yaml.from === 'now' ? yaml.from : new Date(yaml.from),
  };
}

/**
 * Starts a topology's actors on a bus. Everything is an actor: worker pools and shards are the
 * built-in kinds, custom actors are loaded from their modules with their config validated first.
 * Pools start first, so the shards' initial tasks find someone to claim them.
 */
export async function startTopology(
  loaded: LoadedTopology,
  bus: Bus,
  logger: Logger,
): Promise<RunningTopology> {
  const { topology, dir } = loaded;
  const definitions = await checkActors(loaded);
  const actors: RunningActor[] = [];
  const start = async (
    definition: ActorDefinition,
    swarm: string,
    name: string,
    config: unknown,
    subscribe: SubscriptionSpecYaml[] = [],
  ) => {
    const specs = await Promise.all(subscribe.map((s) => toSpec(s, dir)));
    actors.push(
      await startActor(definition, { bus, swarm, name, config, subscribe: specs, baseDir: dir, logger }),
    );
  };
  const stop = async () => {
    for (const actor of [...actors].reverse()) await actor.stop();
  };
  try {
    const swarms = Object.entries(topology.swarms);
    for (const [swarm, spec] of swarms)
      for (const pool of spec.workers) await start(workerPoolActor, swarm, pool.type, pool);
    for (const [swarm, spec] of swarms)
      for (const actor of spec.actors)
        await start(
          definitions.get(`${swarm}/${actor.name}`) as ActorDefinition,
          swarm,
          actor.name,
          actor.config,
          actor.subscribe,
        );
    for (const [swarm, spec] of swarms)
      for (const shard of spec.shards) await start(shardActor, swarm, shard.id, shard, shard.subscribe);
  } catch (error) {
    await stop();
    throw error;
  }
  return { actors, stop };
}

const laterOrSame = (a: string, b: string) => {
  const [am = 0, as = 0] = a.split('-').map(Number);
  const [bm = 0, bs = 0] = b.split('-').map(Number);
  return am > bm || (am === bm && as >= bs);
};

/**
 * Waits until every durable subscription of the topology has taken each of its source swarms'
 * findings up to the newest one now (`swarm run --once` calls this before stopping, so a
 * subscriber is not stopped halfway). Gives up quietly after `limitMs`.
 */
export async function awaitSubscribers(bus: Bus, loaded: LoadedTopology, limitMs = 10_000): Promise<void> {
  const watches: { durable: string; patterns: string[] }[] = [];
  for (const [swarm, spec] of Object.entries(loaded.topology.swarms)) {
    const owners = [
      ...spec.actors.map((a) => ({ name: a.name, subscribe: a.subscribe })),
      ...spec.shards.map((s) => ({ name: s.id, subscribe: s.subscribe })),
    ];
    for (const { name, subscribe } of owners)
      for (const [i, sub] of subscribe.entries())
        watches.push({
          durable: subscribe.length === 1 ? `${swarm}.${name}` : `${swarm}.${name}.${i}`,
          patterns: sub.swarms,
        });
  }
  if (watches.length === 0) return;
  const all = await bus.swarms();
  const targets: { source: string; durable: string; upTo: string }[] = [];
  for (const { durable, patterns } of watches) {
    const match = swarmMatcher(patterns);
    for (const source of all.filter(match)) {
      const upTo = await bus.lastFindingId(source);
      if (upTo !== '0-0') targets.push({ source, durable, upTo });
    }
  }
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline) {
    const behind = [];
    for (const t of targets) {
      const cursor = (await bus.cursors(t.source))[t.durable];
      if (!cursor || !laterOrSame(cursor, t.upTo)) behind.push(t);
    }
    if (behind.length === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
