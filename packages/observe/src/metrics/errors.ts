import { SwarmError } from '@swarm/core';

/** The metrics port could not be opened (in use, not allowed): says which and why. */
export class MetricsServerError extends SwarmError<'SWARM_METRICS_UNAVAILABLE'> {
  constructor(port: number, host: string | undefined, reason: string) {
    const where = host ? `${host}:${port}` : `port ${port}`;
    const advice =
      reason === 'EADDRINUSE'
        ? 'another process listens there: pick another port'
        : reason === 'EACCES'
          ? 'not allowed: ports below 1024 need privileges, pick a higher one'
          : reason;
    super('SWARM_METRICS_UNAVAILABLE', `cannot serve metrics on ${where}: ${advice}`);
  }
}

/** `--metrics` was given something that is not a port or host:port. */
export class MetricsAddressError extends SwarmError<'SWARM_METRICS_ADDRESS_INVALID'> {
  constructor(value: string) {
    super(
      'SWARM_METRICS_ADDRESS_INVALID',
      `--metrics ${JSON.stringify(value)} is not a port: give a port (9464) or host:port (127.0.0.1:9464)`,
    );
  }
}
