export { didYouMean } from './did-you-mean';
export { formatIssue, TopologyInvalidError, type TopologyIssue } from './errors';
export { HANDLER_KINDS } from './handler-kinds';
export { findProgram, type LoadedTopology, type LoadOptions, loadTopology, parseTopology } from './load';
export { checkActors, loadWhere } from './check-actors';
export {
  type ActorSpec,
  actorSchema,
  type HandlerSpec,
  type ShardSpec,
  type SubscriptionSpecYaml,
  subscriptionSchema,
  type SwarmSpec,
  type TaskSpec,
  type Topology,
  topologyJsonSchema,
  topologySchema,
  type WorkerPoolSpec,
} from './schema';
