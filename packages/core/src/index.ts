/** @swarm/core: the task/finding bus, its two transports, and the nouns they share. */
export type { BackoffOptions } from './bus/backoff';
export type { Bus, BusOptions, ConsumeOptions, FindingsOptions } from './bus/bus';
export type { Delivery } from './bus/delivery';
export type { FindingsFrom } from './bus/findings-reader';
export { MemoryBus, type MemoryBusOptions } from './bus/memory/memory-bus';
export { redactUrl } from './bus/redis/connections';
export { RedisBus, type RedisBusOptions } from './bus/redis/redis-bus';
export type { Retention, StreamBound } from './bus/transport';
export { type Clock, ManualClock, systemClock } from './clock';
export type { ContextStore, ContextStoreOptions } from './context/context-store';
export * from './errors';
export { assertName, CONSUMER_GROUP, keys } from './keys';
export type * from './messages';
export type { FindingFilter } from './subscription/finding-filter';
export type { FollowOptions } from './subscription/follow';
export { isSwarmPattern, swarmMatcher } from './subscription/swarm-pattern';
export * from './topology/index';
