/**
 * Subscriber process of the broadcast benchmark: BENCH_COUNT subscribers of one swarm (durable
 * `bus.follow` subscribers on one RedisBus) or of one channel (raw pub/sub, one ioredis connection
 * each). Checks what every subscriber receives and reports to the benchmark process:
 * 'warm' once each has seen a warm-up message, 'throughput-done' once each has all of them,
 * 'got' per latency sample once each has it, 'report' with the latency samples on request.
 */
import { compareIds, RedisBus } from '@swarm/core';
import { Redis } from 'ioredis';
import type { Subscription } from 'rxjs';
import { type BroadcastMessage, clockMs } from '../broadcast-messages';
import { env, exitWithParent, fail, intEnv, onEach, onMessage, send, sendThenExit } from './ipc';

exitWithParent();
const system = env('BENCH_SYSTEM');
const url = env('BENCH_REDIS_URL');
const swarm = env('BENCH_SWARM');
const first = Number(env('BENCH_FIRST'));
const count = intEnv('BENCH_COUNT');
const findings = intEnv('BENCH_FINDINGS');
/** A subscriber that has waited this long for an expected message fails the run. */
const STALL_MS = 60_000;

/** What one subscriber has received. */
interface Sub {
  name: string;
  warm: boolean;
  /** Throughput messages seen, by seq (each must come exactly once). */
  seen: Uint8Array;
  received: number;
  /** Highest seq (pub/sub) or stream id (swarm) so far: each message must come after the last. */
  lastSeq: number;
  lastId: string;
  /** Latency sample seqs this subscriber is at (the next one it expects). */
  latencyNext: number;
}

const subs: Sub[] = [];
for (let i = 0; i < count; i++)
  subs.push({
    name: `sub-${first + i}`,
    warm: false,
    seen: new Uint8Array(findings),
    received: 0,
    lastSeq: -1,
    lastId: '0-0',
    latencyNext: 0,
  });

let warmCount = 0;
let throughputDone = 0;
let throughputLastAt = 0;
let lost = 0;
/** Per latency seq: how many local subscribers have it. */
const latencyCounts = new Map<number, number>();
const delays: number[] = [];
let lastDeliveryAt = Date.now();
let stopped = false;

function deliver(sub: Sub, message: BroadcastMessage, id: string | undefined): void {
  const at = clockMs();
  lastDeliveryAt = Date.now();
  if (stopped) return;
  if (id !== undefined) {
    // The stream's order is the truth: every subscriber must see ids strictly increasing.
    if (compareIds(id, sub.lastId) <= 0)
      throw new Error(`${sub.name}: finding ${id} came after ${sub.lastId} (out of order or repeated)`);
    sub.lastId = id;
  }
  if (message.phase === 'warmup') {
    if (!sub.warm) {
      sub.warm = true;
      if (++warmCount === count) send({ type: 'warm' });
    }
    return;
  }
  if (!sub.warm) throw new Error(`${sub.name}: ${message.phase} message ${message.seq} before any warm-up`);
  if (message.phase === 'throughput') {
    const { seq } = message;
    if (!Number.isSafeInteger(seq) || seq < 0 || seq >= findings)
      throw new Error(`${sub.name}: throughput seq ${seq} out of range`);
    if (sub.seen[seq] === 1) throw new Error(`${sub.name}: throughput message ${seq} delivered twice`);
    if (id === undefined) {
      // Raw pub/sub: one publisher connection, so seqs must rise; a gap is a lost message.
      if (seq <= sub.lastSeq) throw new Error(`${sub.name}: throughput message ${seq} after ${sub.lastSeq}`);
      lost += seq - sub.lastSeq - 1;
      sub.lastSeq = seq;
    }
    sub.seen[seq] = 1;
    sub.received++;
    if (sub.received === findings || (id === undefined && seq === findings - 1)) {
      throughputLastAt = Math.max(throughputLastAt, at);
      if (++throughputDone === count) send({ type: 'throughput-done', lastAt: throughputLastAt, lost });
    }
    return;
  }
  // Latency: one sample at a time, each must reach every subscriber once and in turn.
  const { seq } = message;
  if (seq !== sub.latencyNext)
    throw new Error(`${sub.name}: latency sample ${seq} arrived, expected ${sub.latencyNext}`);
  sub.latencyNext++;
  if (message.measured) {
    const delay = at - message.sentAt;
    if (delay < 0) throw new Error(`${sub.name}: negative delay ${delay} ms (clocks disagree)`);
    delays.push(delay);
  }
  const have = (latencyCounts.get(seq) ?? 0) + 1;
  if (have === count) {
    latencyCounts.delete(seq);
    send({ type: 'got', seq });
  } else {
    latencyCounts.set(seq, have);
  }
}

const guarded = (sub: Sub, message: () => BroadcastMessage, id: string | undefined) => {
  try {
    deliver(sub, message(), id);
  } catch (error) {
    fail(error);
  }
};

let close: () => Promise<void>;
let established: Promise<unknown>;

if (system === 'swarm') {
  const bus = new RedisBus({ url });
  const subscriptions: Subscription[] = subs.map((sub) =>
    bus.follow({ swarms: [swarm], name: sub.name, from: 'now' }).subscribe({
      next: (finding) => guarded(sub, () => finding.data as BroadcastMessage, finding.id),
      error: fail,
    }),
  );
  established = bus.redis().then((redis) => redis.ping());
  close = async () => {
    for (const s of subscriptions) s.unsubscribe();
    // close() waits for each durable subscriber's last cursor write.
    await bus.close();
  };
} else if (system === 'redis-pubsub') {
  const connections = subs.map((sub) => {
    const redis = new Redis(url, { protocol: 2, connectionName: `bench:${sub.name}` });
    redis.on('message', (_channel: string, text: string) =>
      guarded(sub, () => (JSON.parse(text) as { data: BroadcastMessage }).data, undefined),
    );
    return redis;
  });
  established = Promise.all(connections.map((c) => c.subscribe(swarm)));
  close = async () => {
    await Promise.all(connections.map((c) => c.quit().catch(() => c.disconnect())));
  };
} else {
  throw new Error(`unknown BENCH_SYSTEM ${system}`);
}

// Fail loudly rather than hang: a subscriber still owed messages and hearing nothing for a minute.
const watchdog = setInterval(() => {
  const waiting = warmCount === count && throughputDone < count;
  if (waiting && Date.now() - lastDeliveryAt > STALL_MS) {
    const behind = subs
      .filter((s) => s.received < findings)
      .slice(0, 5)
      .map((s) => `${s.name} at ${s.received}`)
      .join(', ');
    fail(
      new Error(`no message for ${STALL_MS} ms; ${count - throughputDone} subscriber(s) behind (${behind})`),
    );
  }
}, 1_000);
watchdog.unref();

onEach('report', () => send({ type: 'report', delays, lost }));

onMessage('stop', () => {
  stopped = true;
  clearInterval(watchdog);
  close().then(() => sendThenExit({ type: 'stopped' }), fail);
});

established.then(() => send({ type: 'ready' }), fail);
