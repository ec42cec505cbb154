/** Every error swarm throws on purpose carries a stable `code` for scripts and tests. */
export type SwarmErrorCode =
  | 'SWARM_INVALID_NAME'
  | 'SWARM_INVALID_TASK'
  | 'SWARM_PAYLOAD_TOO_LARGE'
  | 'SWARM_CONTEXT_MISSING'
  | 'SWARM_CONTEXT_CORRUPT'
  | 'SWARM_DEAD_LETTER_NOT_FOUND'
  | 'SWARM_BUS_CLOSED'
  | 'SWARM_LEASE_LOST'
  | 'SWARM_INVALID_CLAIM'
  | 'SWARM_LEDGER_INVALID'
  | 'SWARM_TOPOLOGY_INVALID'
  | 'SWARM_INVALID_REDIS_URL'
  | 'SWARM_NOT_DURABLE';

/** Packages built on core (shard, worker) extend it with codes of their own. */
export class SwarmError<Code extends string = SwarmErrorCode> extends Error {
  readonly code: Code;
  constructor(code: Code, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

export class InvalidNameError extends SwarmError {
  constructor(kind: string, value: string) {
    super(
      'SWARM_INVALID_NAME',
      `invalid ${kind} name ${JSON.stringify(value)}: use 1-64 characters from a-z A-Z 0-9 _ . - starting with a letter or digit`,
    );
  }
}

export class InvalidTaskError extends SwarmError {
  constructor(message: string) {
    super('SWARM_INVALID_TASK', message);
  }
}

export class PayloadTooLargeError extends SwarmError {
  readonly size: number;
  readonly limit: number;
  constructor(size: number, limit: number) {
    super(
      'SWARM_PAYLOAD_TOO_LARGE',
      `task payload is ${size} bytes, over the limit of ${limit}: put large inputs in the context store and pass its reference`,
    );
    this.size = size;
    this.limit = limit;
  }
}

export class ContextMissingError extends SwarmError {
  constructor(ref: string, detail: string) {
    super('SWARM_CONTEXT_MISSING', `context ${ref} is not readable: ${detail}`);
  }
}

export class ContextCorruptError extends SwarmError {
  constructor(ref: string) {
    super('SWARM_CONTEXT_CORRUPT', `context ${ref} does not match its hash: refusing to return it`);
  }
}

export class DeadLetterNotFoundError extends SwarmError {
  constructor(swarm: string, id: string) {
    super('SWARM_DEAD_LETTER_NOT_FOUND', `no dead letter ${id} in swarm ${swarm}`);
  }
}

/** The reason a delivery's signal aborts when another consumer reclaimed its task. */
export class LeaseLostError extends SwarmError {
  constructor() {
    super('SWARM_LEASE_LOST', 'lease lost: another consumer reclaimed this task');
  }
}

export class BusClosedError extends SwarmError {
  constructor() {
    super('SWARM_BUS_CLOSED', 'the bus is closed');
  }
}

export class InvalidClaimError extends SwarmError {
  constructor(handle: string) {
    super(
      'SWARM_INVALID_CLAIM',
      `invalid claim ${JSON.stringify(handle.slice(0, 300))}: expected <swarm>/<type>/<entry id>/<consumer>, as \`swarm claim\` printed it`,
    );
  }
}

/** A budget or rate limit request the ledger cannot take (a negative amount, a bad name). */
export class LedgerError extends SwarmError {
  constructor(message: string) {
    super('SWARM_LEDGER_INVALID', message);
  }
}

/**
 * A write Redis applied on the primary but fewer replicas than the swarm's durability asks for
 * confirmed in time: a failover may still take it back. The caller was not told it succeeded.
 */
export class NotDurableError extends SwarmError {
  constructor(
    readonly swarm: string,
    /** Why it is not confirmed: how many replicas answered, or that the connection changed. */
    why: string,
  ) {
    super(
      'SWARM_NOT_DURABLE',
      `swarm "${swarm}": the write reached the primary but ${why} (durability.replicas); a failover may take it back`,
    );
  }
}
