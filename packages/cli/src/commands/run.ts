import {
  type Bus,
  type Finding,
  loadTopology,
  MemoryBus,
  RedisBus,
  redactUrl,
  type Topology,
} from '@swarm/core';
import { type GatherResult, Shard } from '@swarm/shard';
import { WorkerPool } from '@swarm/worker';
import type { Subscription } from 'rxjs';
import type { Command } from '../command';
import { redisUrlOf } from '../connect';
import { UsageError } from '../errors';
import type { Output } from '../output';
import { cliLogger } from '../require-redis';
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
    this.#subscription = bus.findings$(swarm, { from: new Date(since) }).subscribe((f) => this.#take(f));
  }

  #take(f: Finding): void {
    this.#last = f.id;
    this.print(f);
  }

  async finish(): Promise<void> {
    this.#subscription.unsubscribe();
    for (;;) {
      const page = await this.bus.readFindings(this.swarm, {
        after: this.#last ?? `${this.since - 1}-99999999`,
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

async function postInitialTasks(shard: Shard, tasks: Topology['swarms'][string]['shards'][number]['tasks']) {
  const byType = new Map<string, typeof tasks>();
  for (const task of tasks) byType.set(task.type, [...(byType.get(task.type) ?? []), task]);
  const gathers: Promise<GatherResult[]>[] = [];
  for (const [type, group] of byType)
    gathers.push(
      shard.gather(
        type,
        group.map((t) => ({ description: t.description, data: t.data ?? null })),
      ),
    );
  return gathers;
}

export const run: Command = {
  name: 'run',
  usage: 'swarm run <topology> [--once]',
  summary: 'start every shard and worker pool of a topology; --once exits when every posted task is done',
  options: { once: { type: 'boolean' } },
  async run(input) {
    const [file] = input.positionals;
    if (!file) throw new UsageError('swarm run needs a topology file');
    const { topology, dir } = loadTopology(file);
    const url = redisUrlOf(input.redis, topology.transport.redis);
    const logger = cliLogger();
    const bus: Bus = url ? new RedisBus({ url, logger }) : new MemoryBus({ logger });
    input.out.note(
      url
        ? `transport: redis ${redactUrl(url)}`
        : 'transport: embedded, in-process (no Redis URL given): nothing outlives this run',
    );
    const startedAt = Date.now();
    const progress: Progress = { posted: 0, findings: 0, deadLetters: 0 };
    const pools: WorkerPool[] = [];
    const shards: Shard[] = [];
    const printers: FindingPrinter[] = [];
    const gathers: Promise<GatherResult[]>[] = [];
    const stopProgress = progressLine(progress, startedAt, input.out);
    // The bus's own timers do not hold the process open; on the embedded transport nothing else
    // would, so the run holds it until it is done or told to stop.
    const keepAlive = setInterval(() => {}, 1 << 30);
    try {
      for (const [swarm, spec] of Object.entries(topology.swarms)) {
        for (const pool of spec.workers)
          pools.push(new WorkerPool({ bus, swarm, spec: pool, baseDir: dir, logger }));
        printers.push(
          new FindingPrinter(bus, swarm, startedAt, (f) => {
            progress.findings++;
            input.out.result(formatFinding(f), { ...f });
          }),
        );
      }
      for (const pool of pools) pool.start();
      // A pool whose handler cannot load fails the run instead of leaving its tasks unclaimed.
      await Promise.all(pools.map((p) => p.ready));
      for (const [swarm, spec] of Object.entries(topology.swarms)) {
        for (const shardSpec of spec.shards) {
          const shard = new Shard({
            bus,
            swarm,
            id: shardSpec.id,
            specialization: shardSpec.specialization,
            baseDir: dir,
            logger,
          });
          shards.push(shard);
          await shard.start();
          if (shardSpec.context) await shard.loadContext(shardSpec.context);
          progress.posted += shardSpec.tasks.length;
          for (const g of await postInitialTasks(shard, shardSpec.tasks))
            gathers.push(
              g.then((results) => {
                progress.deadLetters += results.filter((r) => 'deadLetter' in r).length;
                return results;
              }),
            );
        }
      }
      if (input.values.once) {
        const results = (await Promise.all(gathers)).flat();
        const dead = results.filter((r) => 'deadLetter' in r).length;
        for (const printer of printers) await printer.finish();
        stopProgress();
        input.out.note(
          `done: ${results.length} task(s), ${results.length - dead} finding(s), ${dead} dead letter(s)`,
        );
        return 0;
      }
      input.out.note('running; Ctrl-C (or SIGTERM) drains in-flight tasks and exits');
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      input.out.note('draining');
      await Promise.all(pools.map((p) => p.stop()));
      for (const printer of printers) await printer.finish();
      stopProgress();
      return 0;
    } finally {
      clearInterval(keepAlive);
      await Promise.all(pools.map((p) => p.stop()));
      await Promise.all(shards.map((s) => s.stop()));
      for (const printer of printers) printer.cancel();
      await bus.close();
    }
  },
};
