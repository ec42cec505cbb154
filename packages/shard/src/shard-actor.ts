import { defineActor, type Finding, shardSchema } from '@swarm/core';
import type { Subscription } from 'rxjs';
import { Shard } from './shard';
import type { GatherResult } from './types';

/** How many followed findings a shard keeps in its context, newest last. */
const LEARNED_MAX = 100;
/** Findings arriving together become one context version. */
const LEARN_DEBOUNCE_MS = 250;

/**
 * A shard as an actor: how a topology's `shards` entries run. It loads its context, posts its
 * initial tasks and gathers them (`done`), and folds the findings it follows into its context
 * under a "findings from other swarms" section, so the workers it sends learn from them.
 */
export const shardActor = defineActor({
  kind: 'shard',
  // A followed finding is done with once it is in a published context version.
  commit: 'manual',
  config: shardSchema,
  async start(ctx) {
    const spec = ctx.config;
    const shard = new Shard({
      bus: ctx.bus,
      swarm: ctx.swarm,
      id: spec.id,
      specialization: spec.specialization,
      baseDir: ctx.baseDir,
      logger: ctx.log,
      clock: ctx.clock,
    });
    await shard.start();
    if (spec.context) await shard.loadContext(spec.context);

    const learned: string[] = [];
    let uncommitted: Finding[] = [];
    let learnTimer: ReturnType<typeof ctx.clock.setTimeout> | undefined;
    let learning: Promise<unknown> = Promise.resolve();
    const relearn = () => {
      learnTimer = undefined;
      const taken = uncommitted;
      uncommitted = [];
      const section = `=== findings from other swarms ===\n${learned.join('\n')}\n`;
      const text =
        spec.context?.text === undefined ? section : `${spec.context.text.replace(/\n?$/, '\n')}${section}`;
      learning = learning
        .then(() => shard.loadContext({ ...spec.context, text }))
        .then(
          () => ctx.commit(...taken),
          (error: unknown) => {
            uncommitted = [...taken, ...uncommitted]; // folded in with the next version
            ctx.log.warn({ err: String(error) }, 'could not fold findings into the context');
          },
        );
    };
    const learn = (f: Finding) => {
      uncommitted.push(f);
      learned.push(`[${f.swarm}/${f.type}] ${f.summary.replace(/\s+/g, ' ').slice(0, 500)}`);
      if (learned.length > LEARNED_MAX) learned.shift();
      learnTimer ??= ctx.clock.setTimeout(relearn, LEARN_DEBOUNCE_MS);
    };
    const following: Subscription = ctx.findings$.subscribe(learn);

    const byType = new Map<string, typeof spec.tasks>();
    for (const task of spec.tasks) byType.set(task.type, [...(byType.get(task.type) ?? []), task]);
    const done: Promise<GatherResult[]> = Promise.all(
      [...byType].map(([type, group]) =>
        shard.gather(
          type,
          group.map((t) => ({ description: t.description, data: t.data ?? null })),
        ),
      ),
    ).then((results) => results.flat());
    done.catch(() => {});

    return {
      done,
      async stop() {
        following.unsubscribe();
        if (learnTimer) {
          ctx.clock.clearTimeout(learnTimer);
          relearn();
        }
        await learning;
        await shard.stop();
      },
    };
  },
});
