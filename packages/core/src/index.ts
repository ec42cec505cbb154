/** @swarm/core: the task/finding bus, its two transports, and the nouns they share. */

/** Zod, re-exported so an actor's config schema uses the same instance the runtime validates with. */
export { z } from 'zod';
export {
  type ActorContext,
  type ActorDefinition,
  type ActorInstance,
  defineActor,
  isActorDefinition,
  type SubscriptionSpec,
} from './actor/actor';
export {
  ActorConfigError,
  type ActorOutput,
  ActorStoppedError,
  type ConfigIssue,
  parseActorConfig,
  type RunningActor,
  type StartActorOptions,
  startActor,
} from './actor/actor-host';
export { ActorLoadError, loadActorDefinition } from './actor/load-actor';
export type { BackoffOptions } from './bus/backoff';
export type { Bus, BusOptions, ConsumeOptions, FindingsOptions } from './bus/bus';
export type { BusEvents, SettledDelivery } from './bus/bus-events';
export {
  type Claim,
  type ClaimFailure,
  type ClaimHandle,
  type ClaimOptions,
  type ClaimRefusal,
  type ClaimRelease,
  type ClaimRenewal,
  type ClaimReport,
  DEFAULT_CLAIM_LEASE_MS,
  formatClaimHandle,
  parseClaimHandle,
} from './bus/claims';
export type { TaskCounters } from './bus/counters';
export type { Delivery } from './bus/delivery';
export {
  DEFAULT_DURABILITY_TIMEOUT_MS,
  type Durability,
  type DurabilityOption,
} from './bus/durability';
export type { FindingsFrom } from './bus/findings-reader';
export { MemoryBus, type MemoryBusOptions } from './bus/memory/memory-bus';
export {
  advanceFindingsCursor,
  findingsCursorReached,
  jumpHash,
  type PartitionedId,
  splitPartitionedId,
} from './bus/partition-ids';
export {
  type ConnectionOptions,
  type RedisClient,
  RedisConnection,
} from './bus/redis/connections';
export { RedisBus, type RedisBusOptions } from './bus/redis/redis-bus';
export {
  InvalidRedisUrlError,
  parseRedisUrl,
  type RedisNode,
  type RedisTarget,
  redactUrl,
} from './bus/redis/redis-url';
export { type ProtocolScript, protocolScripts } from './bus/redis/scripts';
export { expiredFinding, isExpired } from './bus/settlement';
export { Slots } from './bus/slots';
export { compareIds, laterId } from './bus/stream-id';
export type { Retention, StreamBound } from './bus/transport';
export { type Clock, ManualClock, systemClock } from './clock';
export { MALFORMED_FINDING_TYPE, MAX_DATA_DEPTH, nestedDeeperThan } from './codec';
export type { ContextStore, ContextStoreOptions } from './context/context-store';
export * from './errors';
export { assertName, CONSUMER_GROUP, keys, MAX_PARTITIONS, partitionName, partitionOf } from './keys';
export type {
  BudgetLimit,
  BudgetSpend,
  BudgetState,
  Ledger,
  RateLimit,
  ReserveRequest,
  ReserveResult,
  SettleRequest,
  Spend,
} from './ledger/ledger';
export { budgetSpend } from './ledger/ledger';
export type * from './messages';
export { importUserModule } from './module-import';
export type { FindingFilter } from './subscription/finding-filter';
export type { FollowOptions } from './subscription/follow';
export { isSwarmPattern, splitSwarms, swarmMatcher } from './subscription/swarm-pattern';
export * from './topology/index';
export {
  recordSpanError,
  startTaskSpan,
  type TraceCarrier,
  withSpan,
} from './tracing/task-trace';
