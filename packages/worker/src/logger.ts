import pino, { type Logger } from 'pino';

/** Like the bus's own default: warnings and up, to stderr, unless SWARM_LOG_LEVEL says otherwise. */
export function defaultLogger(): Logger {
  return pino({ level: process.env.SWARM_LOG_LEVEL ?? 'warn' }, pino.destination(2));
}
