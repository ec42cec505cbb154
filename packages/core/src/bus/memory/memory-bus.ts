import { type Clock, systemClock } from '../../clock';
import type { BusOptions } from '../bus';
import { TransportBus } from '../transport-bus';
import { MemoryTransport } from './memory-transport';

export interface MemoryBusOptions extends BusOptions {
  /** A ManualClock makes leases, backoff and polling move only when the test says so. */
  clock?: Clock;
  /** Share another MemoryBus's data, as two processes share one Redis. */
  shareWith?: MemoryBus;
}

/** The in-process twin of RedisBus: same semantics, nothing survives the process. */
export class MemoryBus extends TransportBus {
  constructor(options: MemoryBusOptions = {}) {
    const shared = options.shareWith?.memory;
    const clock = shared?.clock ?? options.clock ?? systemClock;
    super(shared ?? new MemoryTransport(clock, options.retention ?? {}), clock, options);
  }

  /** The underlying transport, for tests that write raw entries. */
  get memory(): MemoryTransport {
    return this.transport as MemoryTransport;
  }
}
