import { writeFile } from 'node:fs/promises';
import {
  advanceFindingsCursor,
  type Bus,
  type Finding,
  loadTopology,
  MemoryBus,
  RedisBus,
  redactUrl,
} from '@swarm/core';
import { checkModel } from '@swarm/worker';
import type { Subscription } from 'rxjs';
import type { Command } from '../command';
import { redisUrlOf } from '../connect';
import { EXIT, UsageError } from '../errors';
import { metricsOption, startMetricsEndpoint } from '../metrics-endpoint';
import type { Output } from '../output';
import { assertReachable, cliLogger } from '../require-redis';
import { printDeadLetter, reportDeadLetters } from '../run-dead-letters';
import { checkRunnable } from '../topology-check';
import { awaitSubscribers, type RunningTopology, startTopology } from '../topology-runner';
import { formatFinding } from './findings';

/**
 * Prints a swarm's findings from the run's start, live; `finish` stops the live reader and prints
 * whatever it had not reached yet from the stream, so every finding is printed exactly once.
 */
class FindingPrinter {
  #last: string | undefined;
  readonly #subscription: Subscription;

  constructor(
    private readonly bus: Bus,
    private readonly swarm: string,
    private readonly since: number,
    private readonly print: (f: Finding) => void,
  ) {
    this.#subscription = bus.findings$(swarm, { from: new Date(since) }).subscribe({
      next: (f) => this.#take(f),
      // finish() reads the stream to the end anyway; a live reader that gave up only costs latency.
      error: (error: unknown) =>
        cliLogger().warn({ swarm, err: String(error) }, 'live findings reader stopped'),
    });
  }

  #take(f: Finding): void {
    this.#last = advanceFindingsCursor(this.#last, f.id);
    this.print(f);
  }

  async finish(): Promise<void> {
    this.#subscription.unsubscribe();
    // Every partition from the run's start, except where the live reader got further: a cursor
    // names each partition (docs/SCALING.md), so none is read from another's position.
    const partitions = Math.max(1, ...Object.values(await this.bus.partitions(this.swarm)));
    let cursor = this.#last;
    for (let p = 0; p < partitions; p++) {
      const start = `${p === 0 ? '' : `${p}:`}${this.since - 1}-99999999`;
      cursor = advanceFindingsCursor(cursor, start);
    }
    this.#last = cursor;
    for (;;) {
      const page = await this.bus.readFindings(this.swarm, {
        after: this.#last as string,
        count: 1_000,
      });
      for (const f of page) this.#take(f);
      if (page.length < 1_000) return;
    }
  }

  cancel(): void {
    this.#subscription.unsubscribe();
  }
}

interface Progress {
  posted: number;
  findings: number;
  deadLetters: number;
}

/** One line, rewritten in place, on a terminal only. */
function progressLine(progress: Progress, startedAt: number, out: Output): () => void {
  if (out.json || !process.stderr.isTTY) return () => {};
  const draw = () => {
    const done = progress.findings + progress.deadLetters;
    const perSec = progress.findings / Math.max(0.001, (Date.now() - startedAt) / 1_000);
    process.stderr.write(
      `\r${done}/${progress.posted} done  ${perSec.toFixed(1)} findings/s  ${progress.deadLetters} failed   `,
    );
  };
  const timer = setInterval(draw, 250);
  return () => {
    clearInterval(timer);
    draw();
    process.stderr.write('\n');
  };
}

export const run: Command = {
  name: 'run',
  usage: 'swarm run <topology> [--once] [--dead-letters <file>] [--metrics <[host:]port>]',
  summary: 'start every shard and worker pool of a topology; --once exits when every posted task is done',
  options: {
    once: { type: 'boolean', description: 'exit when every posted task is done' },
    'dead-letters': {
      type: 'string',
      value: '<file>',
      description: "write the run's dead letters to this file, one JSON object per line",
    },
    metrics: metricsOption,
  },
  async run(input) {
    const [file] = input.positionals;
    if (!file) throw new UsageError('swarm run needs a topology file');
    // The worker's price table checks each llm pool's models, at their lines in the file.
    const loaded = loadTopology(file, { checkModel });
    // Everything validate checks, before anything starts: the two agree on what runs.
    await checkRunnable(loaded);
    const deadLetterFile = input.values['dead-letters'] as string | undefined;
    // Made (empty) now: a path that cannot be written is said before the run, not after it.
    if (deadLetterFile !== undefined)
      await writeFile(deadLetterFile, '').catch((error: NodeJS.ErrnoException) => {
        throw new UsageError(
          `--dead-letters ${deadLetterFile}: cannot write it (${error.code ?? error.message})`,
        );
      });
    const { topology } = loaded;
    const url = redisUrlOf(input.redis, topology.transport.redis);
    const logger = cliLogger();
    const durability = (swarm: string) => topology.swarms[swarm]?.durability;
    const metrics = await startMetricsEndpoint(input);
    const events = metrics?.events;
    const redis = url ? new RedisBus({ url, logger, durability, events }) : undefined;
    const bus: Bus = redis ?? new MemoryBus({ logger, events });
    metrics?.watch(bus, Object.keys(topology.swarms));
    input.out.note(
      url
        ? `transport: redis ${redactUrl(url)}`
        : 'transport: embedded, in-process (no Redis URL given): nothing outlives this run',
    );
    const durable = Object.keys(topology.swarms).filter((swarm) => (durability(swarm)?.replicas ?? 0) > 0);
    if (!url && durable.length > 0)
      input.out.note(`durability of ${durable.join(', ')}: ignored in process, where there are no replicas`);
    if (redis)
      await assertReachable(redis).catch(async (error: unknown) => {
        await redis.close();
        throw error;
      });
    const startedAt = Date.now();
    const deadLetterReport = {
      bus,
      swarms: Object.keys(topology.swarms),
      since: startedAt,
      embedded: !url,
      file: deadLetterFile,
      out: input.out,
    };
    const progress: Progress = { posted: 0, findings: 0, deadLetters: 0 };
    const printers: FindingPrinter[] = [];
    const stopProgress = progressLine(progress, startedAt, input.out);
    // The bus's own timers do not hold the process open; on the embedded transport nothing else
    // would, so the run holds it until it is done or told to stop.
    const keepAlive = setInterval(() => {}, 1 << 30);
    let running: RunningTopology | undefined;
    try {
      for (const swarm of Object.keys(topology.swarms))
        printers.push(
          new FindingPrinter(bus, swarm, startedAt, (f) => {
            progress.findings++;
            input.out.result(formatFinding(f), { ...f });
          }),
        );
      for (const spec of Object.values(topology.swarms))
        for (const shard of spec.shards) progress.posted += shard.tasks.length;
      running = await startTopology(loaded, bus, logger);
      const outcomes = running.initialOutcomes.then((results) => {
        progress.deadLetters = results.filter((r) => 'deadLetter' in r).length;
        return results;
      });
      if (input.values.once) {
        const results = await outcomes;
        const dead = results.flatMap((r) => ('deadLetter' in r ? [r.deadLetter] : []));
        if (!(await awaitSubscribers(bus, running.actors)))
          input.out.note('some subscribers had not caught up after 10 s; stopping them anyway');
        // Stopping lets actors publish what they hold (an aggregator's last summary) before the
        // printers read the streams to the end.
        await running.stop();
        for (const printer of printers) await printer.finish();
        stopProgress();
        for (const letter of dead) printDeadLetter(letter, input.out);
        await reportDeadLetters({ ...deadLetterReport, printed: new Set(dead.map((d) => d.id)) });
        input.out.note(
          `done: ${results.length} task(s), ${results.length - dead.length} finding(s), ${dead.length} dead letter(s)`,
        );
        // A script (or an agent) must see from the exit code alone that a task was given up on.
        return dead.length > 0 ? EXIT.failure : EXIT.ok;
      }
      input.out.note('running; Ctrl-C (or SIGTERM) drains in-flight tasks and exits');
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      input.out.note('draining');
      await running.stop();
      for (const printer of printers) await printer.finish();
      stopProgress();
      await reportDeadLetters({ ...deadLetterReport, printed: new Set() });
      return EXIT.ok;
    } finally {
      clearInterval(keepAlive);
      await running?.stop();
      for (const printer of printers) printer.cancel();
      await bus.close();
    }
  },
};
