import type { Logger } from 'pino';
import type { Observable } from 'rxjs';
import type { z } from 'zod';
import type { Bus, ConsumeOptions } from '../bus/bus';
import type { Delivery } from '../bus/delivery';
import type { Clock } from '../clock';
import type { Finding, PostedTask, PublishInput, TaskInput } from '../messages';
import type { FollowOptions } from '../subscription/follow';

/**
 * What to follow: FollowOptions without the name, which the host derives from the actor's:
 * `<swarm>.<actor>.<key>` with a key, else `<swarm>.<actor>` for a lone subscription and
 * `<swarm>.<actor>.<position>` for one of several. A key keeps the cursor when the list changes.
 */
export type SubscriptionSpec = Omit<FollowOptions, 'name'> & { key?: string };

/**
 * Everything an actor gets: its config, findings and tasks in (Observables), findings and tasks
 * out. Observables from here end when the actor stops, so an actor never has to track them.
 */
export interface ActorContext<Config> {
  /** The actor's name, unique in its swarm. Its durable cursors and published findings carry it. */
  readonly name: string;
  /** The swarm it lives in: where it publishes and, by default, posts. */
  readonly swarm: string;
  /** The topology's `config` block, as the actor's schema parsed it (defaults applied). */
  readonly config: Config;
  /** Directory that relative paths in the config resolve against (the topology file's). */
  readonly baseDir: string;
  readonly clock: Clock;
  readonly log: Logger;
  /** Aborted when the actor is told to stop. */
  readonly signal: AbortSignal;
  /** The bus itself, for what the rest of this context does not cover. */
  readonly bus: Bus;
  /**
   * In: the findings its topology `subscribe` entries select, merged, durable under the actor's
   * name (a restarted actor resumes where it stopped), never its own. Empty without entries.
   */
  readonly findings$: Observable<Finding>;
  /** In: more findings, durable under `<swarm>.<actor>.<key>`; the key tells subscriptions apart. */
  follow(key: string, spec: SubscriptionSpec): Observable<Finding>;
  /** In: tasks of a type in the actor's swarm, as deliveries to complete or fail. */
  tasks$(type: string, options?: ConsumeOptions): Observable<Delivery>;
  /** Out: a finding in the actor's swarm, published under its name. */
  publish(finding: Omit<PublishInput, 'workerId'>): Promise<Finding>;
  /** Out: a task, in the actor's swarm unless another is named. */
  post(type: string, task: TaskInput, swarm?: string): Promise<PostedTask>;
  /**
   * With `commit: 'manual'`: the findings (and everything before them in their swarms) are done
   * with, and a restart resumes after them. Call it once their effect is durable. A no-op for
   * actors that commit on handover (the default).
   */
  commit(...findings: Finding[]): void;
}

/** What start() may hand back. */
export interface ActorInstance {
  /** Runs after the actor's inputs have ended; the actor finishes or hands back its work here. */
  stop?(): void | Promise<void>;
  /**
   * Settles when the work the actor started on its own is finished (a shard's initial tasks);
   * `swarm run --once` waits for every actor's. Actors that only react leave it out.
   */
  done?: Promise<unknown>;
}

/** A kind of actor: the schema of its topology `config` block and how to start one. */
export interface ActorDefinition<Schema extends z.ZodType = z.ZodType> {
  /** What this kind of actor is called in logs and errors, e.g. 'aggregator'. */
  readonly kind: string;
  /** Validates the topology's `config` block; start() gets its output. */
  readonly config: Schema;
  /**
   * When a followed finding counts as done: 'handover' (default) once it has been handed to the
   * actor; 'manual' once the actor calls ctx.commit for it, so findings an actor holds in memory
   * come again after a crash instead of being lost with it.
   */
  readonly commit?: 'handover' | 'manual';
  // biome-ignore lint/suspicious/noConfusingVoidType: an actor with nothing to stop may return nothing, sync or async
  start(ctx: ActorContext<z.output<Schema>>): void | ActorInstance | Promise<void | ActorInstance>;
}

/** Declares an actor; the identity function, there for the types. */
export function defineActor<Schema extends z.ZodType>(
  definition: ActorDefinition<Schema>,
): ActorDefinition<Schema> {
  return definition;
}

export function isActorDefinition(value: unknown): value is ActorDefinition {
  if (value === null || typeof value !== 'object') return false;
  const candidate = value as Partial<ActorDefinition>;
  return (
    typeof candidate.kind === 'string' &&
    typeof candidate.start === 'function' &&
    typeof (candidate.config as { safeParse?: unknown } | undefined)?.safeParse === 'function'
  );
}
