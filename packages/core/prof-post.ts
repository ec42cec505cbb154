import { RedisBus } from './src/index';

const bus = new RedisBus({ url: 'redis://127.0.0.1:6390' });
const N = 50000;
await bus.redis.flushall();
for (let r = 0; r < 3; r++) {
  const t0 = performance.now();
  for (let i = 0; i < N; i += 1000)
    await bus.postBatch(
      'p',
      'noop',
      Array.from({ length: 1000 }, (_, j) => ({ data: i + j })),
    );
  console.log('post', Math.round(N / ((performance.now() - t0) / 1000)), 'tasks/s');
}
await bus.close();
