import { writeFile } from 'node:fs/promises';
import { type Bus, type DeadLetter, splitPartitionedId } from '@swarm/core';
import type { Output } from './output';

/**
 * A dead letter as `run` reports it: its task and the last attempt's error (the reason when the
 * entry held no error history, as for an entry that did not parse).
 */
export function printDeadLetter(letter: DeadLetter, out: Output): void {
  const last = letter.errors.at(-1);
  const error = last?.message ?? letter.reason;
  const taskId = letter.task?.id ?? null;
  const attempts = last ? ` after attempt ${last.attempt}` : '';
  out.result(
    `${letter.id}  ${letter.swarm}  ${letter.type}  task ${taskId ?? '(malformed)'}  dead-lettered${attempts}\n  ${error}`,
    {
      deadLetter: letter.id,
      swarm: letter.swarm,
      type: letter.type,
      taskId,
      attempt: last?.attempt ?? null,
      error,
      reason: letter.reason,
    },
  );
}

/** The dead letters written since `since` (ms) in these swarms: this run's, not older ones kept in Redis. */
export async function deadLettersSince(bus: Bus, swarms: string[], since: number): Promise<DeadLetter[]> {
  const all = await Promise.all(swarms.map((swarm) => bus.deadLetters(swarm, { count: 100_000 })));
  // A partition's dead letter has the id `p:<stream id>`; the stream id says when it was written.
  return all.flat().filter((d) => Number(splitPartitionedId(d.id)?.id.split('-')[0] ?? 0) >= since);
}

export interface DeadLetterReport {
  bus: Bus;
  swarms: string[];
  since: number;
  /** Embedded: the dead letters die with the process, so each is printed. */
  embedded: boolean;
  /** `--dead-letters <file>`: every dead letter of the run, one JSON object per line. */
  file: string | undefined;
  /** Already printed (run --once prints its shards' tasks' dead letters itself). */
  printed: ReadonlySet<string>;
  out: Output;
}

/** At the end of a run: keeps its dead letters visible (printed when embedded, or in a file). */
export async function reportDeadLetters(report: DeadLetterReport): Promise<DeadLetter[]> {
  const letters = await deadLettersSince(report.bus, report.swarms, report.since);
  if (report.embedded) {
    const unprinted = letters.filter((d) => !report.printed.has(d.id));
    for (const letter of unprinted) printDeadLetter(letter, report.out);
    if (unprinted.length > 0 && report.file === undefined)
      report.out.note(
        `${letters.length} dead letter(s) above end with this embedded run: --dead-letters <file> keeps them as JSON lines`,
      );
  }
  if (report.file !== undefined) {
    await writeFile(report.file, letters.map((d) => `${JSON.stringify(d)}\n`).join(''));
    report.out.note(`${letters.length} dead letter(s) written to ${report.file}`);
  }
  return letters;
}
