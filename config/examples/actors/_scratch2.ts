import { type Delivery, defineActor, z } from '@swarm/core';

/** Claims `shout` tasks in its own swarm and completes each with its description in capitals. */
export const shouter = defineActor({
  kind: 'shouter',
  config: z.strictObject({ concurrency: z.number().int().min(1).default(4) }),
  start(ctx) {
    const running = new Set<Promise<unknown>>();
    const handle = async (delivery: Delivery) => {
      const text = delivery.task.description;
      if (text === '') {
        await delivery.fail(new Error('nothing to shout'), { retry: false }); // straight to the dead letters
        return;
      }
      try {
        await delivery.complete({ summary: text.toUpperCase(), data: { length: text.length } });
      } catch (error) {
        await delivery.fail(error); // retried with backoff, then dead-lettered
      }
    };
    ctx.tasks$('shout', { concurrency: ctx.config.concurrency }).subscribe((delivery) => {
      const work = handle(delivery)
        .catch((error: unknown) => ctx.log.warn({ err: String(error) }, 'not settled; its lease will lapse'))
        .finally(() => running.delete(work));
      running.add(work);
    });
    return {
      // tasks$ has already ended here; finish what was claimed so nothing waits for a lease to lapse.
      async stop() {
        await Promise.allSettled(running);
      },
    };
  },
});
