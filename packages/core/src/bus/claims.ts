import type { Logger } from 'pino';
import type { Clock } from '../clock';
import { decodeTask, encodeTask, MAX_DATA_DEPTH, nestedDeeperThan } from '../codec';
import { InvalidClaimError, InvalidTaskError } from '../errors';
import { assertName, partitionName, partitionOf } from '../keys';
import type { FailResult, FindingInput, Task } from '../messages';
import { defaultBackoff } from './backoff';
import { expiredFinding, findingOf, isExpired, settleFailure, taskOrBury } from './settlement';
import type { TaskQueue, Transport } from './transport';

/**
 * Claims: one task handed to a worker that lives outside any consumer loop — an agent that runs
 * `swarm claim`, thinks, and runs `swarm report` as another process. Nothing renews a claim on its
 * own, so it holds a long lease (10 minutes by default), recorded where reclaimers honour it; the
 * handle names everything a later process needs to settle it.
 */

export const DEFAULT_CLAIM_LEASE_MS = 10 * 60 * 1000;
const DEFAULT_CLAIM_MAX_ATTEMPTS = 5;
/** Longest single blocking read while a claim waits, so due retries and lapsed leases are seen too. */
const CLAIM_POLL_MS = 1_000;
/** A claim also forgets killed workers' consumer names, as a pool with the default lease does. */
const PRUNE_IDLE_MS = 90_000;

export interface ClaimOptions {
  /** How long to wait for a task; 0 (the default) looks once. */
  waitMs?: number;
  /** How long the claim holds its task unrenewed before another worker may take it (default 10 minutes). */
  leaseMs?: number;
  /** A task whose deliveries reach this (its claims keep lapsing) is dead-lettered (default 5). */
  maxAttempts?: number;
  /** Consumer name for this claim; unique per claim (default host-pid-random). */
  consumer?: string;
  /**
   * Stops the wait (the caller went away): answers undefined soon after, and a task read while
   * stopping goes straight back, at the same attempt.
   */
  signal?: AbortSignal;
}

export interface Claim {
  /**
   * `<swarm>/<type>/<entry id>/<consumer>`: what report, renew and fail take. The swarm is
   * `S#p` for a task of partition p ≥ 1 of a partitioned type.
   */
  handle: string;
  task: Task;
  leaseMs: number;
  /** When the lease lapses unless renewed, in this process's clock. */
  expiresAt: number;
}

/** Why a claim could do nothing: nothing was written. */
export type ClaimRefusal =
  /** Completed, retried or dead-lettered already: by this claim earlier, or by whoever took it over. */
  | { outcome: 'settled' }
  /** The lease lapsed and another worker holds the task now: its finding will count, not this one. */
  | { outcome: 'lost'; owner: string };

export type ClaimReport = { outcome: 'completed'; findingId: string } | ClaimRefusal;
export type ClaimRenewal = { outcome: 'renewed'; leaseMs: number } | ClaimRefusal;
export type ClaimRelease = { outcome: 'released' } | ClaimRefusal;

export type ClaimFailure = FailResult | { outcome: 'settled' };

export interface ClaimHandle {
  swarm: string;
  type: string;
  entryId: string;
  consumer: string;
}

const ENTRY_ID = /^\d{1,20}-\d{1,20}$/;
/** A swarm's own name, or one of its partitions' (`S#p`, p ≥ 1). */
const PARTITION_SUFFIX = /^#[1-9]\d{0,2}$/;

export function formatClaimHandle(handle: ClaimHandle): string {
  return `${handle.swarm}/${handle.type}/${handle.entryId}/${handle.consumer}`;
}

/** Names never contain `/`, so the four parts split back unambiguously. */
export function parseClaimHandle(handle: string): ClaimHandle {
  const parts = typeof handle === 'string' ? handle.split('/') : [];
  const [swarm = '', type = '', entryId = '', consumer = ''] = parts;
  if (parts.length !== 4 || !ENTRY_ID.test(entryId)) throw new InvalidClaimError(String(handle));
  try {
    const at = swarm.indexOf('#');
    if (at >= 0 && !PARTITION_SUFFIX.test(swarm.slice(at))) throw new InvalidClaimError(handle);
    assertName('swarm', at >= 0 ? swarm.slice(0, at) : swarm);
    assertName('task type', type);
    assertName('consumer', consumer);
  } catch {
    throw new InvalidClaimError(handle);
  }
  return { swarm, type, entryId, consumer };
}

export interface ClaimDeps {
  transport: Transport;
  clock: Clock;
  log: Logger;
  defaultConsumer: () => string;
}

/** Claims one task, or answers undefined when none came within `waitMs`. */
export async function claimTask(
  deps: ClaimDeps,
  swarm: string,
  type: string,
  options: ClaimOptions = {},
): Promise<Claim | undefined> {
  const { clock } = deps;
  const leaseMs = Math.max(1, options.leaseMs ?? DEFAULT_CLAIM_LEASE_MS);
  const maxAttempts = Math.max(1, options.maxAttempts ?? DEFAULT_CLAIM_MAX_ATTEMPTS);
  const consumer = options.consumer ?? deps.defaultConsumer();
  assertName('consumer', consumer);
  const log = deps.log.child({ swarm, type, consumer });
  const queue = deps.transport.openQueue(swarm, type, consumer, leaseMs);
  const buried: Promise<unknown>[] = [];
  const { signal } = options;
  const stop = () => queue.interrupt();
  signal?.addEventListener('abort', stop);
  try {
    await queue.ensureGroup();
    // A one-shot worker does what a running consumer does on its rounds: forget killed workers,
    // move due retries onto the stream, and take over lapsed leases before new work.
    queue.pruneIdleConsumers(PRUNE_IDLE_MS).catch(() => {});
    const until = clock.now() + Math.max(0, options.waitMs ?? 0);
    while (!signal?.aborted) {
      await queue.promoteDue();
      let entries = await queue.reclaim(1, maxAttempts);
      if (entries.length === 0 && !signal?.aborted)
        entries = await queue.readNew(1, Math.max(1, Math.min(CLAIM_POLL_MS, until - clock.now())));
      for (const entry of entries) {
        const task = taskOrBury(queue, swarm, type, entry, clock.now(), log, buried);
        if (!task) continue;
        if (signal?.aborted) {
          // Nobody is waiting for it any more: back at once, at the same attempt.
          await queue.retry(entry.id, encodeTask(task), 0);
          continue;
        }
        if (isExpired(task, clock.now())) {
          await queue.complete(
            entry.id,
            JSON.stringify(findingOf(task, expiredFinding(), consumer, clock.now())),
          );
          continue;
        }
        return {
          handle: formatClaimHandle({ swarm, type, entryId: entry.id, consumer }),
          task,
          leaseMs,
          expiresAt: clock.now() + leaseMs,
        };
      }
      if (entries.length === 0 && clock.now() >= until) return undefined;
    }
    return undefined;
  } finally {
    signal?.removeEventListener('abort', stop);
    // Keeps the consumer (and its lease) while it holds the claim; forgets it otherwise, once
    // what it buried is settled (a pending entry would keep it).
    await Promise.allSettled(buried);
    await queue.close();
  }
}

/**
 * A claim of a partitioned type: the partitions are looked at in turn from a random one; the
 * last of each round waits for new tasks, so a claim that waits sees every partition each second.
 */
export async function claimFromPartitions(
  deps: ClaimDeps,
  swarm: string,
  type: string,
  partitions: number,
  options: ClaimOptions = {},
): Promise<Claim | undefined> {
  const { clock } = deps;
  const consumer = options.consumer ?? deps.defaultConsumer();
  const until = clock.now() + Math.max(0, options.waitMs ?? 0);
  const first = Math.floor(Math.random() * partitions);
  do {
    for (let i = 0; i < partitions && !options.signal?.aborted; i++) {
      const waitMs = i === partitions - 1 ? Math.max(0, Math.min(CLAIM_POLL_MS, until - clock.now())) : 0;
      const name = partitionName(swarm, (first + i) % partitions);
      const claim = await claimTask(deps, name, type, { ...options, consumer, waitMs });
      if (claim) return { ...claim, task: { ...claim.task, swarm } };
    }
  } while (clock.now() < until && !options.signal?.aborted);
  return undefined;
}

type HeldClaim = { held: true; task: Task; leaseMs: number } | ({ held: false } & ClaimRefusal);

/**
 * Runs `work` on the claim's queue if the claim still holds its task (the task as its holder sees
 * it), or answers why not; the queue is closed after, which forgets the consumer once it holds
 * nothing.
 */
async function withClaim<T>(
  deps: ClaimDeps,
  handle: ClaimHandle,
  leaseMs: number | undefined,
  work: (queue: TaskQueue, claim: Extract<HeldClaim, { held: true }>) => Promise<T>,
): Promise<T | ClaimRefusal> {
  const lease =
    leaseMs ??
    (await deps.transport.leaseOf(handle.swarm, handle.type, handle.consumer)) ??
    DEFAULT_CLAIM_LEASE_MS;
  const queue = deps.transport.openQueue(handle.swarm, handle.type, handle.consumer, lease);
  try {
    const held = await holding(queue, handle, lease);
    return held.held ? await work(queue, held) : refusalOf(held);
  } finally {
    await queue.close();
  }
}

async function holding(queue: TaskQueue, handle: ClaimHandle, leaseMs: number): Promise<HeldClaim> {
  const pending = await queue.inspect(handle.entryId);
  if (!pending) return { held: false, outcome: 'settled' };
  if (pending.owner !== handle.consumer) return { held: false, outcome: 'lost', owner: pending.owner };
  const task = decodeTask(partitionOf(handle.swarm).swarm, handle.type, pending.fields, pending.deliveries);
  return { held: true, task, leaseMs };
}

const refusalOf = (held: { outcome: 'settled' } | { outcome: 'lost'; owner: string }): ClaimRefusal =>
  held.outcome === 'settled' ? { outcome: 'settled' } : { outcome: 'lost', owner: held.owner };

/**
 * Completes a claim with a finding: exactly once (the same atomic completion every worker uses),
 * and only while the claim holds its task, checked in the same step. Refused, writing nothing,
 * when the claim was settled already or its task went to another worker.
 */
export async function reportClaim(
  deps: ClaimDeps,
  handle: string,
  input: FindingInput,
): Promise<ClaimReport> {
  const parsed = parseClaimHandle(handle);
  if (nestedDeeperThan(input.data, MAX_DATA_DEPTH))
    throw new InvalidTaskError(`finding data is nested deeper than ${MAX_DATA_DEPTH} levels`);
  return withClaim(deps, parsed, undefined, async (queue, { task, leaseMs }) => {
    const finding = findingOf(task, input, parsed.consumer, deps.clock.now());
    const id = await queue.complete(parsed.entryId, JSON.stringify(finding), { owned: true });
    if (id === null) return { outcome: 'settled' } as const;
    if (id !== 'lost') return { outcome: 'completed', findingId: id } as const;
    // Taken over between the look and the report: say by whom, or that it is settled already.
    const now = await holding(queue, parsed, leaseMs);
    return now.held ? ({ outcome: 'settled' } as const) : refusalOf(now);
  });
}

/** Renews a claim's lease (to `leaseMs` when given, else the lease it holds). */
export async function renewClaim(deps: ClaimDeps, handle: string, leaseMs?: number): Promise<ClaimRenewal> {
  const parsed = parseClaimHandle(handle);
  const lease = leaseMs === undefined ? undefined : Math.max(1, leaseMs);
  return withClaim(deps, parsed, lease, async (queue, claim) => {
    const lost = await queue.renew([parsed.entryId]);
    if (lost.length === 0) return { outcome: 'renewed', leaseMs: claim.leaseMs } as const;
    const now = await holding(queue, parsed, claim.leaseMs);
    return now.held ? ({ outcome: 'settled' } as const) : refusalOf(now);
  });
}

/**
 * Gives a claimed task back unworked: at once, at the same attempt, with no error recorded (the
 * agent or the client it was for went away before it began).
 */
export async function releaseClaim(deps: ClaimDeps, handle: string): Promise<ClaimRelease> {
  const parsed = parseClaimHandle(handle);
  return withClaim(deps, parsed, undefined, async (queue, { task }) =>
    (await queue.retry(parsed.entryId, encodeTask(task), 0))
      ? ({ outcome: 'released' } as const)
      : ({ outcome: 'settled' } as const),
  );
}

/** Records a failed attempt: retried with backoff, or dead-lettered at maxAttempts or without retry. */
export async function failClaim(
  deps: ClaimDeps,
  handle: string,
  error: string,
  options: { retry?: boolean; maxAttempts?: number } = {},
): Promise<ClaimFailure> {
  const parsed = parseClaimHandle(handle);
  const failed = await withClaim(deps, parsed, undefined, (queue, { task }) =>
    settleFailure(queue, parsed.entryId, task, new Error(error), {
      retry: options.retry ?? true,
      maxAttempts: Math.max(1, options.maxAttempts ?? DEFAULT_CLAIM_MAX_ATTEMPTS),
      backoff: defaultBackoff,
      now: deps.clock.now(),
    }),
  );
  return failed.outcome === 'lost' ? { outcome: 'lost' } : failed;
}
