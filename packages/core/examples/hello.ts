/**
 * The forgetful-worker pattern on the bare bus: a shard stores its context and posts tasks,
 * a worker claims each one, reads the context, reports a finding and keeps nothing.
 * Embedded (in-process) by default; set SWARM_REDIS_URL to run it on Redis.
 */
import { type Bus, MemoryBus, RedisBus, redactUrl } from '@swarm/core';
import { mergeMap, take } from 'rxjs';

const url = process.env.SWARM_REDIS_URL;
const bus: Bus = url ? new RedisBus({ url }) : new MemoryBus();
console.log(url ? `transport: redis (${redactUrl(url)})` : 'transport: embedded (no SWARM_REDIS_URL given)');

const swarm = 'hello';
const questions = ['What is the shard?', 'What does a worker keep?', 'Where do findings live?'];
const context = await bus.context.put(
  swarm,
  'The shard holds the context. A worker keeps nothing. Findings live in a durable stream.',
);

const worker = bus
  .consume(swarm, 'ask', { concurrency: 2 })
  .pipe(
    mergeMap(async (delivery) => {
      const text = (await bus.context.get(swarm, delivery.task.context as string)).toString();
      const word = String(delivery.task.data).split(' ').at(-1)?.replace('?', '') ?? '';
      const answer = text.split('. ').find((s) => s.toLowerCase().includes(word.toLowerCase())) ?? 'unknown';
      await delivery.complete({ summary: answer.replace(/\.$/, ''), data: { question: delivery.task.data } });
    }),
  )
  .subscribe();

const since = new Date();
await bus.postBatch(
  swarm,
  'ask',
  questions.map((q) => ({ description: q, data: q, context, parent: 'shard-hello' })),
);

await new Promise<void>((resolve) => {
  bus
    .findings$(swarm, { from: since })
    .pipe(take(questions.length))
    .subscribe({
      next: (f) =>
        console.log(
          `finding ${f.id}  task ${f.taskId.slice(0, 8)}  ${JSON.stringify(f.data)} → ${f.summary}`,
        ),
      complete: resolve,
    });
});
worker.unsubscribe();
await bus.close();
