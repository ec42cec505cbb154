import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { RedisBus } from './src/index';

const bus = new RedisBus({ url: 'redis://127.0.0.1:6390' });
const N = 100000;
await bus.redis.flushall();
for (let i = 0; i < N; i += 1000)
  await bus.postBatch(
    'p',
    'noop',
    Array.from({ length: 1000 }, (_, j) => ({ data: i + j })),
  );
const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.start');
let done = 0;
await new Promise<void>((resolve) => {
  bus.consume('p', 'noop', { concurrency: 64 }).subscribe((d) => {
    d.complete({ summary: 'ok' }).then(() => {
      if (++done === N) resolve();
    });
  });
});
const { profile } = await session.post('Profiler.stop');
writeFileSync('/tmp/work.cpuprofile', JSON.stringify(profile));
await bus.close();
