/**
 * The AI SDK alone, for `pnpm bench models`: the call an llm pool makes for a task (streamText
 * with the same messages and options, its full stream read to the end), so many at a time in a
 * loop against the benchmark's fake vendor, in a process of its own.
 */
import { createAnthropic } from '@ai-sdk/anthropic';
import { streamText } from 'ai';
import { env, exitWithParent, fail, intEnv, onEach, onMessage, send, sendThenExit } from './ipc';
import { profileIfAsked } from './models-profile';

exitWithParent();
const saveProfile = await profileIfAsked('models-sdk');
const model = createAnthropic({ baseURL: env('BENCH_BASE_URL'), apiKey: env('BENCH_FAKE_KEY') })(
  env('BENCH_MODEL'),
);
const maxOutputTokens = intEnv('BENCH_MAX_OUTPUT_TOKENS');

/** One call, as the pool makes it; throws unless the vendor finished its answer. */
async function call(prompt: string): Promise<void> {
  const result = streamText({
    model,
    messages: [{ role: 'user', content: [{ type: 'text', text: prompt }] }],
    maxOutputTokens,
    maxRetries: 0,
    onError: () => {},
  });
  let finish: string | undefined;
  for await (const part of result.fullStream) {
    if (part.type === 'error') throw part.error;
    if (part.type === 'finish') finish = part.finishReason;
  }
  if (finish !== 'stop') throw new Error(`the call ended with finish reason ${finish}`);
}

/** `count` calls, `inFlight` at a time; each call's milliseconds, the whole run's, and its CPU time. */
async function loop(
  first: number,
  count: number,
  inFlight: number,
): Promise<{ ms: number; cpuMs: number; latencies: number[] }> {
  const latencies: number[] = [];
  let next = 0;
  const lane = async () => {
    while (next < count) {
      const i = first + next++;
      const started = performance.now();
      await call(`task ${i}`);
      latencies.push(performance.now() - started);
    }
  };
  const started = performance.now();
  const cpu = process.cpuUsage();
  await Promise.all(Array.from({ length: Math.min(inFlight, count) }, lane));
  const { user, system } = process.cpuUsage(cpu);
  return { ms: performance.now() - started, cpuMs: (user + system) / 1_000, latencies };
}

onEach('run', (message) => {
  loop(Number(message.first), Number(message.count), Number(message.inFlight)).then(
    (result) => send({ type: 'done', ...result }),
    fail,
  );
});
onMessage('stop', () => {
  saveProfile().then(() => sendThenExit({ type: 'stopped' }), fail);
});
send({ type: 'ready' });
