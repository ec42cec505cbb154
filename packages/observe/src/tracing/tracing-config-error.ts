import { SwarmError } from '@swarm/core';

/** An `OTEL_*` variable asks for something swarm cannot do; the message names it and what to set. */
export class TracingConfigError extends SwarmError<'SWARM_TRACING_INVALID'> {
  constructor(message: string) {
    super('SWARM_TRACING_INVALID', message);
  }
}
