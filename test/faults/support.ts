import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Bus, DeadLetter, Finding } from '@swarm/core';
import { type CliProcess, startSwarmCli } from '../support/cli';

export const FIXTURES = join(import.meta.dirname, 'fixtures');

/**
 * How long the suite's waits may take: they run under load, through kills, restarts and pauses.
 * No timing is asserted, only that the state is reached.
 */
export const UNDER_LOAD = { limitMs: 180_000 };

/** Real `swarm worker` processes, which a test kills and restarts. */
export class Workers {
  readonly #procs: CliProcess[] = [];
  readonly #args: string[];
  readonly #env: NodeJS.ProcessEnv;

  constructor(url: string, swarm: string, type: string, flags: string[]) {
    this.#args = ['worker', swarm, type, ...flags];
    this.#env = { SWARM_REDIS_URL: url };
  }

  get all(): CliProcess[] {
    return this.#procs;
  }

  start(n = 1): CliProcess[] {
    const started = Array.from({ length: n }, () => startSwarmCli(this.#args, { env: this.#env }));
    this.#procs.push(...started);
    return started;
  }

  async kill(proc: CliProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    proc.child.kill(signal);
    return proc.exited;
  }

  async stopAll(): Promise<void> {
    for (const p of this.#procs)
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
    await Promise.all(
      this.#procs.map((p) => Promise.race([p.exited, sleep(15_000).then(() => p.child.kill('SIGKILL'))])),
    );
  }
}

/** Posts `count` tasks `{ data: { i } }` in batches of 1,000; returns their ids in order. */
export async function postTasks(bus: Bus, swarm: string, type: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i += 1_000) {
    const batch = Array.from({ length: Math.min(1_000, count - i) }, (_, k) => ({ data: { i: i + k } }));
    ids.push(...(await bus.postBatch(swarm, type, batch)).map((p) => p.id));
  }
  return ids;
}

export async function allFindings(bus: Bus, swarm: string): Promise<Finding[]> {
  const out: Finding[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await bus.readFindings(swarm, { after, count: 5_000 });
    out.push(...page);
    if (page.length < 5_000) return out;
    after = page.at(-1)?.id;
  }
}

export interface Ledger {
  tasks: number;
  findings: number;
  /** Tasks with more than one finding (extra findings counted). */
  duplicates: number;
  /** Tasks with neither a finding nor a dead letter. */
  lost: number;
  deadLetters: number;
  /** Waiting, in flight or delayed, over every task type of the swarm. */
  open: number;
}

/** Matches every posted task to its findings and dead letters. */
export async function ledger(bus: Bus, swarm: string, taskIds: readonly string[]): Promise<Ledger> {
  const findings = await allFindings(bus, swarm);
  const dead: DeadLetter[] = await bus.deadLetters(swarm, { count: 100_000 });
  const perTask = new Map<string, number>();
  for (const f of findings) perTask.set(f.taskId, (perTask.get(f.taskId) ?? 0) + 1);
  const buried = new Set(dead.map((d) => d.task?.id));
  let duplicates = 0;
  let lost = 0;
  for (const id of taskIds) {
    const n = perTask.get(id) ?? 0;
    if (n > 1) duplicates += n - 1;
    if (n === 0 && !buried.has(id)) lost++;
  }
  const status = await bus.status(swarm);
  const open = status.types.reduce((sum, t) => sum + t.waiting + t.inFlight + t.delayed, 0);
  return {
    tasks: taskIds.length,
    findings: findings.length,
    duplicates,
    lost,
    deadLetters: dead.length,
    open,
  };
}

/** Waiting, in flight or delayed tasks of a swarm: a cheap poll, unlike a full ledger. */
export async function openTasks(bus: Bus, swarm: string): Promise<number> {
  const status = await bus.status(swarm);
  return status.types.reduce((sum, t) => sum + t.waiting + t.inFlight + t.delayed, 0);
}

/** One line per fault for the suite's report (and the closing note). */
export function report(fault: string, figures: Record<string, number | string>): void {
  console.log(
    `[faults] ${fault}: ${Object.entries(figures)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`,
  );
}
