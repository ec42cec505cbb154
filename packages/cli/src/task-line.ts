import type { SettledTask } from '@swarm/worker';
import type { Paint } from './colour';
import { printable } from './printable';

function outcomeOf(event: SettledTask, paint: Paint): string {
  const o = event.outcome;
  switch (o.outcome) {
    case 'completed':
      return paint.green('completed');
    case 'deferred':
      return paint.yellow(`deferred ${Math.round(o.retryInMs / 100) / 10}s: ${printable(o.reason)}`);
    case 'lost':
      return paint.yellow(`lease lost: ${printable(o.error)}`);
    default:
      return paint.red(
        `${o.next === 'dead-letter' ? 'dead-lettered' : 'failed, will be retried'}: ${printable(o.error)}`,
      );
  }
}

function durationOf(ms: number): string {
  return ms < 1_000 ? `${ms}ms` : `${(ms / 1_000).toFixed(ms < 10_000 ? 2 : 1)}s`;
}

/** `14:03:07  3f2a…  summarize  completed  120ms`: what a long-running worker prints per task on a terminal. */
export function formatTaskLine(event: SettledTask, paint: Paint, now = new Date()): string {
  const clock = now.toTimeString().slice(0, 8);
  const attempt = event.attempt > 1 ? `  attempt ${event.attempt}` : '';
  return `${paint.dim(clock)}  ${event.taskId}  ${paint.bold(event.type)}  ${outcomeOf(event, paint)}  ${durationOf(event.durationMs)}${attempt}`;
}
