import { defineActor, z } from '@swarm/core';

/** Republishes, as an `alert` finding, every finding it follows whose summary mentions a keyword. */
export default defineActor({
  kind: 'keyword-alert',
  config: z.strictObject({
    keyword: z.string().min(1),
    tag: z.string().default('alert'),
  }),
  start(ctx) {
    const { keyword, tag } = ctx.config;
    ctx.findings$.subscribe((finding) => {
      if (!finding.summary.toLowerCase().includes(keyword.toLowerCase())) return;
      ctx
        .publish({
          type: 'alert',
          summary: `${finding.swarm}: ${finding.summary}`,
          tags: [tag],
          parent: finding.taskId,
        })
        .catch((error: unknown) => ctx.log.warn({ err: String(error) }, 'alert not published'));
    });
  },
});
