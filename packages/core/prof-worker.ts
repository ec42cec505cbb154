import { RedisBus } from './src/index';

const bus = new RedisBus({ url: 'redis://127.0.0.1:6390' });
const N = 50000;
await bus.redis.flushall();
for (let i = 0; i < N; i += 1000)
  await bus.postBatch(
    'p',
    'noop',
    Array.from({ length: 1000 }, (_, j) => ({ data: i + j })),
  );
let done = 0;
await bus.redis.config('RESETSTAT');
const t0 = performance.now();
await new Promise<void>((resolve) => {
  bus.consume('p', 'noop', { concurrency: 64 }).subscribe((d) => {
    d.complete({ summary: 'ok' }).then(() => {
      if (++done === N) resolve();
    });
  });
});
console.log('worker only', Math.round(N / ((performance.now() - t0) / 1000)), 'tasks/s');
const t1 = performance.now();
let seen = 0;
await new Promise<void>((resolve) =>
  bus.findings$('p').subscribe(() => {
    if (++seen === N) resolve();
  }),
);
console.log('replay', Math.round(N / ((performance.now() - t1) / 1000)), 'findings/s');
await bus.close();
