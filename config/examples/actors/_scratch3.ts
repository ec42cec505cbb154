import { defineActor, z } from '@swarm/core';

/** Counts error findings, and posts a `triage` task for each one tagged `page`. */
export default defineActor({
  kind: 'pager',
  config: z.strictObject({ swarms: z.array(z.string()).default(['research-*']) }),
  start(ctx) {
    ctx.follow('pages', { swarms: ctx.config.swarms, tags: ['page'], from: 'now' }).subscribe((finding) => {
      ctx
        .post('triage', { description: finding.summary, parent: finding.taskId, idempotencyKey: finding.id })
        .catch((error: unknown) => ctx.log.warn({ err: String(error) }, 'triage not posted'));
    });
  },
});
