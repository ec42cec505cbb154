import { assertName, type HandlerSpec, type WorkerPoolSpec } from '@swarm/core';
import { type RunOnceResult, runOnce, type SettledTask, WorkerPool } from '@swarm/worker';
import { paint } from '../colour';
import type { Command } from '../command';
import { EXIT, UsageError } from '../errors';
import { positiveInt } from '../flags';
import { metricsOption, startMetricsEndpoint } from '../metrics-endpoint';
import { cliLogger, redisBus, withBus } from '../require-redis';
import { formatTaskLine } from '../task-line';

const BUILTINS = ['redis_health_check', 'echo', 'sleep'] as const;

/**
 * `--handler` names a builtin or a module path, with `#export` to pick an export; without it,
 * the builtin named like the task type.
 */
export function handlerFor(type: string, handler: string | undefined): HandlerSpec {
  const name = handler ?? type;
  if ((BUILTINS as readonly string[]).includes(name)) return { builtin: name as (typeof BUILTINS)[number] };
  const [module = '', exportName] = (handler ?? '').split('#');
  if (handler && (/\.(m?[jt]s|cjs)$/.test(module) || module.includes('/')))
    return exportName ? { module, export: exportName } : { module };
  throw new UsageError(
    handler
      ? `--handler must be a builtin (${BUILTINS.join(', ')}) or a module path, got ${handler}`
      : `no builtin handles "${type}": pass --handler <module path or builtin>`,
  );
}

/** What a failed `--once` attempt did and what becomes of its task, for people; the error last (it may run over lines). */
function describeFailure(
  result: Extract<RunOnceResult, { outcome: 'failed' | 'lost' }>,
  swarm: string,
): string {
  if (result.outcome === 'lost')
    return `task ${result.taskId}: its lease went to another worker, which owns the task now; nothing was recorded here: ${result.error}`;
  const { taskId, attempt, maxAttempts, error } = result;
  const failed = `task ${taskId} failed on attempt ${attempt} of ${maxAttempts}`;
  if (result.next === 'retry')
    return `${failed}; it will be retried (attempt ${attempt + 1} of ${maxAttempts}) in ${Number((result.retryInMs / 1_000).toFixed(1))} s: ${error}`;
  if (result.next === 'dead-letter')
    return `${failed} and was dead-lettered (see swarm dlq ${swarm} list): ${error}`;
  return `${failed}, and the failure could not be recorded: a worker reclaims the task once its lease lapses: ${error}`;
}

export const worker: Command = {
  name: 'worker',
  usage:
    'swarm worker <swarm> <type> [--once] [--handler <module[#export]|builtin>] [--wait <seconds>] [--concurrency <n>] [--lease-ms <ms>] [--timeout-ms <ms>] [--max-attempts <n>] [--keep-findings <n>] [--assist] [--metrics <[host:]port>]',
  summary:
    'run a worker as this process; with --once: claim one task, report its finding, exit (3 if none came)',
  options: {
    once: { type: 'boolean', description: 'claim one task, report its finding, exit' },
    handler: {
      type: 'string',
      value: '<module[#export]|builtin>',
      description: 'what handles each task',
      default: 'the builtin named like the type',
    },
    wait: {
      type: 'string',
      value: '<seconds>',
      description: 'with --once, how long to wait for a task',
      default: '10',
    },
    concurrency: { type: 'string', value: '<n>', description: 'tasks handled at once', default: '1' },
    'lease-ms': {
      type: 'string',
      value: '<ms>',
      description: 'a task not renewed within this is reclaimed',
      default: '30000',
    },
    'timeout-ms': {
      type: 'string',
      value: '<ms>',
      description: 'longest a handler may run',
      default: '300000',
    },
    assist: { type: 'boolean', description: "also take other types' overflow (the assist queue)" },
    'max-attempts': {
      type: 'string',
      value: '<n>',
      description: 'attempts before a task is dead-lettered',
      default: '3',
    },
    'keep-findings': {
      type: 'string',
      value: '<n>',
      description: 'trim the findings stream to this many',
      default: 'keep all',
    },
    metrics: metricsOption,
  },
  async run(input) {
    const [swarm, type] = input.positionals;
    if (!swarm || !type) throw new UsageError('swarm worker needs <swarm> and <type>');
    const handler = handlerFor(type, input.values.handler as string | undefined);
    const wait = Number(input.values.wait ?? 10);
    if (!Number.isFinite(wait) || wait < 0)
      throw new UsageError(`--wait must be a number of seconds, got ${input.values.wait}`);
    const leaseMs = positiveInt(input.values['lease-ms'], 30_000, '--lease-ms');
    const timeoutMs = positiveInt(input.values['timeout-ms'], 300_000, '--timeout-ms');
    const concurrency = Number(input.values.concurrency ?? 1);
    if (!Number.isInteger(concurrency) || concurrency < 1)
      throw new UsageError('--concurrency must be a positive integer');
    assertName('swarm', swarm);
    assertName('task type', type);
    const maxAttempts = positiveInt(input.values['max-attempts'], 3, '--max-attempts');
    const keep = input.values['keep-findings'];
    const keepFindings = keep === undefined ? undefined : positiveInt(keep, 0, '--keep-findings');
    if (input.values.once && input.values.assist)
      throw new UsageError('--assist needs a long-running worker: drop --once');
    // A one-shot worker is gone before a scrape could come.
    if (input.values.once && input.values.metrics !== undefined)
      throw new UsageError('--metrics needs a long-running worker: drop --once');
    const metrics = await startMetricsEndpoint(input);
    const bus = redisBus(input, 'worker', input.values.once ? 'one-shot' : 'long-running', {
      // The findings stream is trimmed to this many as this worker records more.
      ...(keepFindings !== undefined ? { retention: { findings: { maxLen: keepFindings } } } : {}),
      ...(metrics ? { events: metrics.events } : {}),
    });
    metrics?.watch(bus, [swarm]);
    if (input.values.once) {
      return withBus(bus, async () => {
        const result = await runOnce({
          leaseMs,
          timeoutMs,
          maxAttempts,
          bus,
          swarm,
          type,
          handler,
          baseDir: process.cwd(),
          waitMs: wait * 1_000,
          logger: cliLogger(),
        });
        if (result.outcome === 'no-task') {
          input.out.note(`no ${type} task in swarm ${swarm} within ${wait} s`);
          input.out.result('', { outcome: 'no-task', swarm, type });
          return EXIT.noTask;
        }
        if (result.outcome === 'deferred') {
          input.out.result(
            `task ${result.taskId} deferred, not failed: ${result.reason}; it comes back in ${Number((result.retryInMs / 1_000).toFixed(1))} s`,
            { ...result, swarm, type },
          );
          return EXIT.failure;
        }
        if (result.outcome === 'failed' || result.outcome === 'lost') {
          input.out.result(describeFailure(result, swarm), { ...result, swarm, type });
          // A lost lease is `notHeld`, as for `swarm report`: another worker owns the task now.
          return result.outcome === 'lost' ? EXIT.notHeld : EXIT.failure;
        }
        input.out.result(`${result.findingId}  ${result.summary}`, { ...result, swarm, type });
        return EXIT.ok;
      });
    }
    // No `partitions`: a worker without a topology reads the swarm's own (keys.partitions).
    const spec: Omit<WorkerPoolSpec, 'partitions'> = {
      type,
      handler,
      concurrency,
      leaseMs,
      timeoutMs,
      maxAttempts,
      backoff: { baseMs: 1_000, maxMs: 60_000 },
      isolation: 'none',
      assist: input.values.assist === true,
    };
    return withBus(bus, async () => {
      // A person watching a terminal sees each task go by; a log file or a pipe gets only the summary.
      const perTask = !input.out.json && process.stdout.isTTY === true;
      const pool = new WorkerPool({
        bus,
        swarm,
        spec,
        baseDir: process.cwd(),
        logger: cliLogger(),
        ...(perTask
          ? { onSettled: (event: SettledTask) => input.out.result(formatTaskLine(event, paint), {}) }
          : {}),
      });
      pool.start();
      // A handler that cannot load must end the process, not leave a worker that claims nothing.
      await pool.ready;
      input.out.note(`worker for ${swarm}/${type} running; Ctrl-C drains and exits`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await pool.stop();
      input.out.result(`drained: ${pool.stats.completed} completed, ${pool.stats.failed} failed`, {
        ...pool.stats,
      });
      return EXIT.ok;
    });
  },
};
