import { randomUUID } from 'node:crypto';
import pino, { type Logger } from 'pino';
import { EMPTY, merge, Observable, ReplaySubject, retry, Subject, share, takeUntil } from 'rxjs';
import type { Bus } from '../bus/bus';
import type { Clock } from '../clock';
import { SwarmError } from '../errors';
import { assertName } from '../keys';
import type { Finding, PostedTask, TaskInput } from '../messages';
import { didYouMean, keysAt } from '../topology/did-you-mean';
import type { ActorContext, ActorDefinition, ActorInstance, SubscriptionSpec } from './actor';

export interface ConfigIssue {
  /** Path inside the config block, e.g. ['everyMs']. */
  path: (string | number)[];
  message: string;
}

/** A config block the actor's schema refuses; the topology loader places each issue in the file. */
export class ActorConfigError extends SwarmError<'SWARM_ACTOR_CONFIG'> {
  constructor(
    readonly actor: string,
    readonly issues: ConfigIssue[],
  ) {
    super(
      'SWARM_ACTOR_CONFIG',
      `invalid config for actor ${actor}: ${issues
        .map((i) => `${i.path.length ? `${i.path.join('.')}: ` : ''}${i.message}`)
        .join('; ')}`,
    );
  }
}

export type ActorOutput =
  | { kind: 'finding'; finding: Finding }
  | { kind: 'task'; swarm: string; type: string; task: TaskInput; posted: PostedTask };

export interface StartActorOptions {
  bus: Bus;
  swarm: string;
  name: string;
  /** The raw config block; the definition's schema validates it. */
  config?: unknown;
  subscribe?: readonly SubscriptionSpec[];
  baseDir?: string;
  logger?: Logger;
  /** Defaults to the bus's clock. */
  clock?: Clock;
  /** Sees every finding and task the actor puts out (the test kit listens here). */
  onOutput?: (output: ActorOutput) => void;
}

export interface RunningActor {
  readonly kind: string;
  readonly name: string;
  readonly swarm: string;
  /** What start() returned, for hosts that know the kind (e.g. a shard's initial work). */
  readonly instance: ActorInstance;
  /** Its topology subscriptions. */
  readonly subscriptions: readonly SubscriptionSpec[];
  /** Per source swarm, the id of the last finding handed to it (kept or filtered out). */
  readonly progress: ReadonlyMap<string, string>;
  /** Ends its inputs, runs its stop hook, waits for its outputs and stores its cursors. Idempotent. */
  stop(): Promise<void>;
}

/** Parses a config block with the actor's schema, or throws ActorConfigError. */
export function parseActorConfig<C>(definition: ActorDefinition, name: string, config: unknown): C {
  const parsed = definition.config.safeParse(config ?? {});
  if (parsed.success) return parsed.data as C;
  const issues: ConfigIssue[] = [];
  for (const issue of parsed.error.issues) {
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    if (issue.code === 'unrecognized_keys') {
      const known = keysAt(definition.config, path);
      for (const key of issue.keys) {
        const hint = didYouMean(key, known);
        issues.push({
          path: [...path, key],
          message: `unknown key "${key}"${hint ? `: did you mean "${hint}"?` : known.length ? ` (expected one of: ${known.join(', ')})` : ''}`,
        });
      }
    } else issues.push({ path, message: issue.message.replace(/^Invalid input: /, '') });
  }
  throw new ActorConfigError(name, issues);
}

/** Runs an actor on a bus: validates its config, wires its inputs and outputs, and stops it cleanly. */
export async function startActor<C>(
  definition: ActorDefinition,
  options: StartActorOptions,
): Promise<RunningActor> {
  const { bus, swarm, name } = options;
  assertName('swarm', swarm);
  assertName('consumer', name);
  const config = parseActorConfig<C>(definition, name, options.config);
  const clock = options.clock ?? bus.clock;
  const root = options.logger ?? pino({ level: process.env.SWARM_LOG_LEVEL ?? 'warn' }, pino.destination(2));
  const log = root.child({ swarm, actor: definition.kind, name });
  // Replays the stop, so a stream opened late (in a stop hook) ends at once instead of never.
  const stopped$ = new ReplaySubject<void>(1);
  const controller = new AbortController();
  const outputs = new Set<Promise<unknown>>();
  const until = <T>(source: Observable<T>) => source.pipe(takeUntil(stopped$));
  const track = <T>(work: Promise<T>): Promise<T> => {
    const tracked = work.finally(() => outputs.delete(tracked));
    tracked.catch(() => {});
    outputs.add(tracked);
    return work;
  };
  const manual = definition.commit === 'manual';
  const commits$ = new Subject<Finding>();
  const progress = new Map<string, string>();
  // Never its own findings: an actor that summarises its own swarm must not summarise its summaries.
  const notOwn = (f: Finding) => !(f.swarm === swarm && f.workerId === name);
  /** A pause on the actor's clock, for retries (a ManualClock in the test kit). */
  const pause = (ms: number) =>
    new Observable<void>((subscriber) => {
      const timer = clock.setTimeout(() => {
        subscriber.next();
        subscriber.complete();
      }, ms);
      return () => clock.clearTimeout(timer);
    });
  const follow = (durable: string, { key: _key, ...spec }: SubscriptionSpec) => {
    const where = spec.where;
    return until(
      bus
        .follow({
          ...spec,
          name: durable,
          where: where ? (f) => notOwn(f) && where(f) : notOwn,
          ...(manual ? { commits: commits$ } : {}),
          onProgress: (source, id) => progress.set(source, id),
        })
        .pipe(
          // A subscription that fails (a predicate that throws, say) must not take the process
          // down: say why, and start again from the stored cursor, backing off to 30 s.
          retry({
            delay: (error: unknown, count: number) => {
              log.error(
                { err: String(error), subscription: durable, retry: count },
                'subscription failed; retrying',
              );
              return pause(Math.min(30_000, 1_000 * 2 ** (count - 1)));
            },
          }),
        ),
    );
  };
  const specs = options.subscribe ?? [];
  const findings$ =
    specs.length === 0
      ? EMPTY
      : merge(
          ...specs.map((spec, i) => follow(durableName(swarm, name, specs.length, i, spec.key), spec)),
        ).pipe(share());

  const ctx: ActorContext<C> = {
    name,
    swarm,
    config,
    baseDir: options.baseDir ?? process.cwd(),
    clock,
    log,
    signal: controller.signal,
    bus,
    findings$,
    follow: (key, spec) => follow(`${swarm}.${name}.${key}`, spec),
    tasks$: (type, consume = {}) =>
      until(bus.consume(swarm, type, { consumer: `${name}-${randomUUID().slice(0, 8)}`, ...consume })),
    publish: (finding) =>
      track(
        bus.publish(swarm, { ...finding, workerId: name }).then((published) => {
          options.onOutput?.({ kind: 'finding', finding: published });
          return published;
        }),
      ),
    post: (type, task, to = swarm) =>
      track(
        bus.post(to, type, task).then((posted) => {
          options.onOutput?.({ kind: 'task', swarm: to, type, task, posted });
          return posted;
        }),
      ),
    commit: (...findings) => {
      if (manual) for (const f of findings) commits$.next(f);
    },
  };

  const end = () => {
    stopped$.next();
    stopped$.complete();
    controller.abort(new ActorStoppedError(name));
  };
  let instance: ActorInstance;
  try {
    instance = (await definition.start(ctx)) ?? {};
  } catch (error) {
    // Whatever start() opened before it threw must not keep running.
    end();
    throw error;
  }
  log.info('actor started');
  let stopping: Promise<void> | undefined;
  return {
    kind: definition.kind,
    name,
    swarm,
    instance,
    subscriptions: specs,
    progress,
    stop() {
      stopping ??= (async () => {
        end();
        try {
          await instance.stop?.();
        } finally {
          while (outputs.size > 0) await Promise.allSettled(outputs);
          commits$.complete();
          await bus.flush();
          log.info('actor stopped');
        }
      })();
      return stopping;
    },
  };
}

/** The durable subscriber name of an actor's topology subscription (see SubscriptionSpec). */
export function durableName(
  swarm: string,
  actor: string,
  count: number,
  index: number,
  key?: string,
): string {
  if (key !== undefined) return `${swarm}.${actor}.${key}`;
  return count === 1 ? `${swarm}.${actor}` : `${swarm}.${actor}.${index}`;
}

export class ActorStoppedError extends SwarmError<'SWARM_ACTOR_STOPPED'> {
  constructor(name: string) {
    super('SWARM_ACTOR_STOPPED', `actor ${name} is stopping`);
  }
}
