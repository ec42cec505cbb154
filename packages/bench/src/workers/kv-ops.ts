/** One of several processes hammering the same store: runs workloads on request, reports elapsed ms. */
import { type KvStore, redisStore, runWorkload, sqliteStore, type Workload } from '../kv-stores';
import { env, exitWithParent, fail, intEnv, onEach, onMessage, send, sendThenExit } from './ipc';

exitWithParent();
const system = env('BENCH_SYSTEM');
const store: KvStore =
  system === 'redis'
    ? redisStore(env('BENCH_REDIS_URL'), env('BENCH_REDIS_CLIENT'))
    : await sqliteStore(env('BENCH_DB_PATH'), env('BENCH_SYNC'));
const value = Buffer.alloc(intEnv('BENCH_VALUE_BYTES'), 7);
const options = {
  keys: intEnv('BENCH_KEYS'),
  prefix: env('BENCH_PREFIX'),
  offset: intEnv('BENCH_OFFSET'),
  value,
};

let busy: Promise<void> = Promise.resolve();
onEach('run', (message) => {
  busy = busy.then(async () => {
    const ms = await runWorkload(store, message.workload as Workload, {
      ...options,
      ops: Number(message.ops),
    });
    send({ type: 'done', ms });
  });
  busy.catch(fail);
});

onMessage('stop', () => {
  busy.then(() => store.close()).then(() => sendThenExit({ type: 'stopped' }), fail);
});

Promise.resolve(store.get(`${options.prefix}:k0`)).then(() => send({ type: 'ready' }), fail);
