import pino from 'pino';
import type { BusOptions } from '../bus';
import { TransportBus } from '../transport-bus';
import type { ConnectionOptions } from './connections';
import { RedisTransport } from './redis-transport';

export interface RedisBusOptions extends BusOptions, ConnectionOptions {}

/** The bus on Redis Streams: the transport for anything beyond one process. */
export class RedisBus extends TransportBus {
  constructor(options: RedisBusOptions) {
    const logger =
      options.logger ?? pino({ level: process.env.SWARM_LOG_LEVEL ?? 'warn' }, pino.destination(2));
    super(new RedisTransport(options, options.retention ?? {}, logger), undefined, { ...options, logger });
  }

  /** The command connection, for health checks and tools that need raw Redis. */
  get redis() {
    return (this.transport as RedisTransport).command;
  }
}
