import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { NotDurableError } from '../../errors';
import { keys, partitionOf } from '../../keys';
import { type Durability, type DurabilityOption, durabilityFor } from '../durability';
import { compareIds } from '../stream-id';
import type { RedisConnection } from './connections';
import type { ScriptCaller } from './scripts';

/** A durable write under way: the setting it is held to, and the connection that makes it. */
export interface DurableWrite {
  setting: Required<Durability>;
  node: Redis;
  socket: unknown;
}

/** How long a swarm's recorded durability is trusted before it is read again. */
const STORED_SETTING_TTL_MS = 10_000;

/** How long readers let a durable swarm's mark lag its newest finding before they catch it up. */
const CATCH_UP_AFTER_MS = 2_000;

/**
 * The durability of a swarm's writes (docs/RELIABILITY.md, Durability). A durable write is
 * followed by WAIT on the connection that made it; only then is the caller answered, the mark that
 * readers read up to moved, and the broadcast sent, so nothing a failover can take back is shown.
 */
export class DurableWrites {
  readonly #declared = new Map<string, Promise<Required<Durability> | undefined>>();
  readonly #stored = new Map<string, { at: number; setting: Promise<Required<Durability> | undefined> }>();
  /** Per swarm: the readable id that lagged the newest, and since when. */
  readonly #lagging = new Map<string, { readable: string; since: number }>();

  constructor(
    private readonly connection: RedisConnection,
    private readonly call: ScriptCaller,
    private readonly option: DurabilityOption | undefined,
    private readonly log: Logger,
  ) {}

  /**
   * The swarm's durability: this bus's own setting, recorded in the swarm (its mark, so readers
   * stop at it from then on, and the setting) before its first write from this process; else what
   * the swarm recorded, so a `swarm post` or `swarm worker` without a topology keeps it too.
   * A partition `S#p` is held to S's setting; each partition keeps its own mark, beside its
   * findings stream (docs/SCALING.md, Failover).
   */
  settingOf(swarm: string): Promise<Required<Durability> | undefined> {
    const { swarm: logical, partition } = partitionOf(swarm);
    const own = durabilityFor(this.option, logical);
    if (own) {
      let declared = this.#declared.get(swarm);
      if (!declared) {
        // A partition's writer records the setting on S too, where processes without one read it.
        declared =
          partition > 0
            ? Promise.all([this.settingOf(logical), this.#declare(swarm, own)]).then(() => own)
            : this.#declare(swarm, own);
        declared.catch(() => this.#declared.delete(swarm));
        this.#declared.set(swarm, declared);
      }
      return declared;
    }
    const now = Date.now();
    const stored = this.#stored.get(swarm);
    if (stored && now - stored.at < STORED_SETTING_TTL_MS) return stored.setting;
    const setting = this.#readStored(logical).then(async (found) => {
      // The swarm's setting, recorded on S; a partition's mark must exist before its first write.
      if (found && partition > 0) await this.#startMark(swarm);
      return found;
    });
    setting.catch(() => this.#stored.delete(swarm));
    this.#stored.set(swarm, { at: now, setting });
    return setting;
  }

  /** mark-durable.lua never moves the mark down, so '0-0' only starts a mark no writer has set. */
  async #startMark(swarm: string): Promise<void> {
    await this.call('markDurable', [keys.durable(swarm)], ['0-0', keys.findingsChannel(swarm), '']);
  }

  async #declare(swarm: string, own: Required<Durability>): Promise<Required<Durability>> {
    // Starting the mark and HSET keep to the commands the documented ACL rule list grants (RELIABILITY.md).
    await this.#startMark(swarm);
    const redis = await this.connection.client();
    await redis.hset(keys.durable(swarm), 'replicas', own.replicas, 'timeoutMs', own.timeoutMs);
    return own;
  }

  async #readStored(swarm: string): Promise<Required<Durability> | undefined> {
    const redis = await this.connection.client();
    // HGETALL, not HMGET: a swarm's ACL user is granted the former (RELIABILITY.md, ACL users).
    const { replicas, timeoutMs } = await redis.hgetall(keys.durable(swarm));
    return durabilityFor(
      replicas === undefined
        ? undefined
        : { replicas: Number(replicas), timeoutMs: Number(timeoutMs ?? 1_000) },
      swarm,
    );
  }

  /**
   * Before a write of a durable swarm: its setting, and the connection the write will go out on,
   * which its WAIT must use too (WAIT counts the writes of the connection it runs on).
   */
  async begin(swarm: string): Promise<DurableWrite | undefined> {
    const setting = await this.settingOf(swarm);
    if (!setting) return undefined;
    const node = await this.connection.nodeOf(keys.findings(swarm));
    return { setting, node, socket: node.stream };
  }

  /** WAIT for the swarm's replicas, on the connection the write went out on; throws NotDurableError. */
  async confirm(swarm: string, write: DurableWrite | undefined): Promise<void> {
    if (!write) return;
    const { setting, node, socket } = write;
    // A write redirected to another node, or a connection replaced since: a WAIT on a connection
    // that made no write would confirm nothing, yet answer that every replica has it.
    const unchanged = async () =>
      node.stream === socket && (await this.connection.nodeOf(keys.findings(swarm))) === node;
    if (!(await unchanged()))
      throw new NotDurableError(swarm, 'the connection that wrote it changed before WAIT');
    // A connection closed under the WAIT (its primary died) leaves the write as unconfirmed as a
    // short count does: the caller is told so in the same words, and may post again.
    const acknowledged = Number(
      await node.call('WAIT', setting.replicas, setting.timeoutMs).catch((error: unknown) => {
        throw new NotDurableError(swarm, `its WAIT failed (${String(error)})`);
      }),
    );
    if (node.stream !== socket)
      throw new NotDurableError(swarm, 'the connection that wrote it changed during WAIT');
    if (acknowledged < setting.replicas)
      throw new NotDurableError(
        swarm,
        `only ${acknowledged} of ${setting.replicas} replicas confirmed it within ${setting.timeoutMs} ms`,
      );
  }

  /** After confirm: readers may now see up to `newest`; then the broadcast goes out. */
  async show(swarm: string, newest: string | undefined, broadcast: string): Promise<void> {
    if (newest === undefined) return;
    await this.call('markDurable', [keys.durable(swarm)], [newest, keys.findingsChannel(swarm), broadcast]);
  }

  /**
   * A reader saw the mark lag the newest finding. Mostly a write between its WAIT and its mark;
   * when the lag outlasts that (its writer died there, or a failover lost the mark), confirm
   * everything written so far and move the mark up to it.
   */
  async lagged(swarm: string, readable: string, newest: string): Promise<void> {
    if (compareIds(readable, newest) >= 0) {
      this.#lagging.delete(swarm);
      return;
    }
    const now = Date.now();
    const seen = this.#lagging.get(swarm);
    if (!seen || seen.readable !== readable) {
      this.#lagging.set(swarm, { readable, since: now });
      return;
    }
    if (now - seen.since < CATCH_UP_AFTER_MS) return;
    this.#lagging.delete(swarm);
    const node = await this.connection.nodeOf(keys.findings(swarm));
    const write = { node, socket: node.stream };
    const probe = (await this.call(
      'durableProbe',
      [keys.findings(swarm), keys.durable(swarm)],
      [],
    )) as string[];
    if (probe.length === 0) return;
    const [last, replicas, timeoutMs] = probe as [string, string, string];
    await this.confirm(swarm, {
      ...write,
      setting: { replicas: Number(replicas), timeoutMs: Number(timeoutMs) },
    });
    this.log.info({ swarm, mark: last }, 'durable mark caught up with findings no writer marked');
    await this.show(swarm, last, '');
  }
}
