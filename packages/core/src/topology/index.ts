export { checkActors, loadWhere } from './check-actors';
export type { ModelCheck } from './check-models';
export { didYouMean } from './did-you-mean';
export { formatIssue, TopologyInvalidError, type TopologyIssue } from './errors';
export { HANDLER_KINDS } from './handler-kinds';
export { type LoadedTopology, type LoadOptions, loadTopology, parseTopology } from './load';
export { findProgram } from './missing-files';
export {
  type ActorSpec,
  actorSchema,
  type BudgetSpec,
  type HandlerSpec,
  type LlmSpec,
  llmSchema,
  type PriceSpec,
  type ProviderSpec,
  priceSchema,
  type ShardSpec,
  type SubscriptionSpecYaml,
  type SwarmSpec,
  shardSchema,
  subscriptionSchema,
  type TaskSpec,
  type Topology,
  topologyJsonSchema,
  topologySchema,
  type WorkerPoolSpec,
  workerPoolSchema,
} from './schema';
