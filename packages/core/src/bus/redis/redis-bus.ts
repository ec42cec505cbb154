import pino from 'pino';
import type { BusOptions } from '../bus';
import { TransportBus } from '../transport-bus';
import type { ConnectionOptions, RedisClient, RedisConnection } from './connections';
import { RedisTransport } from './redis-transport';

export interface RedisBusOptions extends BusOptions, ConnectionOptions {}

/** The bus on Redis Streams (a single Redis or a Redis Cluster): the transport for anything beyond one process. */
export class RedisBus extends TransportBus {
  constructor(options: RedisBusOptions) {
    const logger =
      options.logger ?? pino({ level: process.env.SWARM_LOG_LEVEL ?? 'warn' }, pino.destination(2));
    super(new RedisTransport(options, options.retention ?? {}, logger, options.durability), undefined, {
      ...options,
      logger,
    });
  }

  /** The bus's connections: where it is connected, its errors, and whether it is a cluster. */
  get connection(): RedisConnection {
    return (this.transport as RedisTransport).connection;
  }

  /** The command connection (a `Redis` or a `Cluster`), for health checks and tools that need raw Redis. */
  redis(): Promise<RedisClient> {
    return this.connection.client();
  }
}
