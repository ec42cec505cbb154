import type { ActorDefinition, SubscriptionSpec } from '../actor/actor';
import { type ActorOutput, type RunningActor, startActor } from '../actor/actor-host';
import { MemoryBus } from '../bus/memory/memory-bus';
import { ManualClock } from '../clock';
import type { Finding, PostedTask, PublishInput, TaskInput } from '../messages';

export interface ActorTestOptions {
  /** The actor's swarm (default 'test'). */
  swarm?: string;
  /** The actor's name (default: its kind). */
  name?: string;
  config?: unknown;
  subscribe?: readonly SubscriptionSpec[];
  baseDir?: string;
  /** Start time of the manual clock (default 2023-11-14T22:13:20Z). */
  now?: number;
}

export interface PostedByActor {
  swarm: string;
  type: string;
  task: TaskInput;
  id: string;
}

/**
 * An actor on a MemoryBus with a ManualClock: feed it findings and tasks, move time, and look at
 * what it published and posted. Nothing sleeps; `advance` fires due timers in order.
 */
export class ActorTestKit {
  readonly bus: MemoryBus;
  readonly clock: ManualClock;
  /** Findings the actor published, in order. */
  readonly published: Finding[] = [];
  /** Tasks the actor posted, in order. */
  readonly posted: PostedByActor[] = [];
  #actor: RunningActor | undefined;
  #start: (() => Promise<RunningActor>) | undefined;

  private constructor(now: number | undefined) {
    this.clock = new ManualClock(now);
    this.bus = new MemoryBus({ clock: this.clock });
  }

  static async start(definition: ActorDefinition, options: ActorTestOptions = {}): Promise<ActorTestKit> {
    const kit = new ActorTestKit(options.now);
    const record = (output: ActorOutput) => {
      if (output.kind === 'finding') kit.published.push(output.finding);
      else
        kit.posted.push({ swarm: output.swarm, type: output.type, task: output.task, id: output.posted.id });
    };
    kit.#start = () =>
      startActor(definition, {
        bus: kit.bus,
        swarm: options.swarm ?? 'test',
        name: options.name ?? definition.kind,
        config: options.config,
        subscribe: options.subscribe,
        baseDir: options.baseDir,
        onOutput: record,
      });
    kit.#actor = await kit.#start();
    await kit.settle();
    return kit;
  }

  get actor(): RunningActor {
    if (!this.#actor) throw new Error('the actor has not started');
    return this.#actor;
  }

  /** Writes a finding into a swarm, as a worker or another actor would, and lets the actor see it. */
  async finding(swarm: string, finding: PublishInput): Promise<Finding> {
    const published = await this.bus.publish(swarm, finding);
    await this.settle();
    return published;
  }

  /** Posts a task into a swarm (default: the actor's). */
  async task(type: string, task: TaskInput = {}, swarm = this.actor.swarm): Promise<PostedTask> {
    const posted = await this.bus.post(swarm, type, task);
    await this.settle();
    return posted;
  }

  /** Moves time forward; due timers fire in order, and promises settle between them. */
  advance(ms: number): Promise<void> {
    return this.clock.advance(ms);
  }

  /** Lets pending work run without moving time. */
  settle(): Promise<void> {
    return this.clock.advance(0);
  }

  /** Stops the actor and starts it again on the same bus, as a process restart would. */
  async restart(): Promise<void> {
    await this.#actor?.stop();
    await this.settle();
    this.#actor = await this.#start?.();
    await this.settle();
  }

  /** Stops the actor (its stop hook runs and its outputs land), then closes the bus. */
  async stop(): Promise<void> {
    await this.#actor?.stop();
    await this.settle();
    await this.bus.close();
  }
}
