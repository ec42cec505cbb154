import {
  type ActorDefinition,
  type Bus,
  checkActors,
  findingsCursorReached,
  type LoadedTopology,
  loadWhere,
  type RunningActor,
  type SubscriptionSpec,
  type SubscriptionSpecYaml,
  startActor,
  swarmMatcher,
} from '@swarm/core';
import { type GatherResult, shardActor } from '@swarm/shard';
import { workerPoolActorWith } from '@swarm/worker';
import type { Logger } from 'pino';

export interface RunningTopology {
  /** Every actor, in start order: worker pools, custom actors, then shards. */
  readonly actors: RunningActor[];
  /**
   * Settles once every actor's own work (`done`) has; resolves with the shards' initial tasks'
   * outcomes. Never rejects: a shard stopped first (SIGTERM) counts as finished.
   */
  readonly initialOutcomes: Promise<GatherResult[]>;
  /** Stops every actor, shards first (they post), worker pools last (they drain). */
  stop(): Promise<void>;
}

async function toSpec(yaml: SubscriptionSpecYaml, dir: string): Promise<SubscriptionSpec> {
  return {
    ...(yaml.key ? { key: yaml.key } : {}),
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
  const shards: RunningActor[] = [];
  const start = async (
    definition: ActorDefinition,
    swarm: string,
    name: string,
    config: unknown,
    subscribe: SubscriptionSpecYaml[] = [],
  ): Promise<RunningActor> => {
    const specs = await Promise.all(subscribe.map((s) => toSpec(s, dir)));
    const actor = await startActor(definition, {
      bus,
      swarm,
      name,
      config,
      subscribe: specs,
      baseDir: dir,
      logger,
    });
    actors.push(actor);
    return actor;
  };
  const stop = async () => {
    for (const actor of [...actors].reverse()) await actor.stop();
  };
  try {
    const swarms = Object.entries(topology.swarms);
    // llm pools take the topology's providers and prices, and their swarm's budget.
    const workerPoolActor = workerPoolActorWith((swarm) => ({
      providers: topology.providers,
      prices: topology.prices,
      ...(topology.swarms[swarm]?.budget ? { swarmBudget: topology.swarms[swarm].budget } : {}),
    }));
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
      for (const shard of spec.shards)
        shards.push(await start(shardActor, swarm, shard.id, shard, shard.subscribe));
  } catch (error) {
    await stop();
    throw error;
  }
  // Every actor's own work (`done`), the shards' gathers among it; a failure counts as finished.
  const settled = (actor: RunningActor) =>
    Promise.resolve(actor.instance.done).then(
      (results) => results,
      () => undefined,
    );
  const initialOutcomes = Promise.all(
    actors.map(async (actor) => {
      const results = await settled(actor);
      return shards.includes(actor) && Array.isArray(results) ? (results as GatherResult[]) : [];
    }),
  ).then((all) => all.flat());
  return { actors, initialOutcomes, stop };
}

/**
 * Waits until every actor has been handed each of its source swarms' findings up to the newest
 * one now (`swarm run --once` calls this before stopping, so a subscriber is not stopped
 * halfway). Resolves false if some had not caught up after `limitMs`.
 */
export async function awaitSubscribers(
  bus: Bus,
  actors: readonly RunningActor[],
  limitMs = 10_000,
): Promise<boolean> {
  const existing = await bus.swarms();
  const targets: { actor: RunningActor; source: string; upTo: string }[] = [];
  for (const actor of actors)
    for (const spec of actor.subscriptions) {
      const match = swarmMatcher(spec.swarms);
      for (const source of existing.filter(match)) {
        const upTo = await bus.lastFindingId(source);
        if (upTo !== '0-0') targets.push({ actor, source, upTo });
      }
    }
  const deadline = Date.now() + limitMs;
  for (;;) {
    const behind = targets.filter(({ actor, source, upTo }) => {
      const at = actor.progress.get(source);
      return at === undefined || !findingsCursorReached(at, upTo);
    });
    if (behind.length === 0) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
