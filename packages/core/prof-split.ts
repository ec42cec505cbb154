import { RedisBus } from './src/index';

const bus = new RedisBus({ url: 'redis://127.0.0.1:6390' });
const N = 50000;
const redisCpu = async () => {
  const s = await bus.redis.info('cpu');
  return Number(/used_cpu_user:([\d.]+)/.exec(s)![1]) + Number(/used_cpu_sys:([\d.]+)/.exec(s)![1]);
};
await bus.redis.flushall();
let c0 = process.cpuUsage();
let r0 = await redisCpu();
let t0 = performance.now();
for (let i = 0; i < N; i += 1000)
  await bus.postBatch(
    'p',
    'noop',
    Array.from({ length: 1000 }, (_, j) => ({ data: i + j })),
  );
const show = async (what: string) => {
  const c = process.cpuUsage(c0);
  const r = (await redisCpu()) - r0;
  console.log(
    what,
    'wall',
    (((performance.now() - t0) / N) * 1000).toFixed(1),
    'us/task; node cpu',
    ((c.user + c.system) / N).toFixed(1),
    'us/task; redis cpu',
    ((r * 1e6) / N).toFixed(1),
    'us/task',
  );
  c0 = process.cpuUsage();
  r0 = await redisCpu();
  t0 = performance.now();
};
await show('post');
let done = 0;
await new Promise<void>((resolve) => {
  bus.consume('p', 'noop', { concurrency: 64 }).subscribe((d) => {
    d.complete({ summary: 'ok' }).then(() => {
      if (++done === N) resolve();
    });
  });
});
await show('work');
let seen = 0;
await new Promise<void>((resolve) =>
  bus.findings$('p').subscribe(() => {
    if (++seen === N) resolve();
  }),
);
await show('observe');
await bus.close();
