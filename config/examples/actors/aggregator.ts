import { defineActor, type Finding, z } from '@swarm/core';

/**
 * Merges the findings it follows into one summary finding per window: how many, from which
 * swarms, of which types and tags, and which tasks. The window lives in memory, so it commits a
 * window's findings only once their summary is published: after a crash they come again and go
 * into the next summary instead of being lost with the process.
 */
export default defineActor({
  kind: 'aggregator',
  commit: 'manual',
  config: z.strictObject({
    /** Length of a window, in ms. */
    everyMs: z.number().int().positive().default(5_000),
    /** Publish nothing for a window without findings. */
    skipEmpty: z.boolean().default(true),
    /** The summary finding's type. */
    type: z.string().default('summary'),
  }),
  start(ctx) {
    const { everyMs, skipEmpty, type } = ctx.config;
    let window: Finding[] = [];
    let windowStart = ctx.clock.now();

    const publishWindow = async () => {
      const batch = window;
      const from = windowStart;
      window = [];
      windowStart = ctx.clock.now();
      if (batch.length === 0 && skipEmpty) return;
      const count = (key: (f: Finding) => string[]) => {
        const counts: Record<string, number> = {};
        for (const f of batch) for (const k of key(f)) counts[k] = (counts[k] ?? 0) + 1;
        return counts;
      };
      const bySwarm = count((f) => [f.swarm]);
      try {
        await ctx.publish({
          type,
          summary: `${batch.length} finding(s) from ${Object.keys(bySwarm).sort().join(', ') || 'no swarm'}`,
          tags: ['summary'],
          data: {
            count: batch.length,
            from,
            to: windowStart,
            bySwarm,
            byType: count((f) => [f.type]),
            byTag: count((f) => f.tags),
            findings: batch.map((f) => ({ swarm: f.swarm, id: f.id, taskId: f.taskId, summary: f.summary })),
          },
        });
      } catch (error) {
        window = [...batch, ...window]; // summarised with the next window instead
        throw error;
      }
      ctx.commit(...batch);
    };

    const subscription = ctx.findings$.subscribe((finding) => window.push(finding));
    let timer = ctx.clock.setTimeout(function tick() {
      publishWindow().catch((error: unknown) =>
        ctx.log.warn({ err: String(error) }, 'summary not published'),
      );
      timer = ctx.clock.setTimeout(tick, everyMs);
    }, everyMs);

    return {
      async stop() {
        ctx.clock.clearTimeout(timer);
        subscription.unsubscribe();
        await publishWindow();
      },
    };
  },
});
