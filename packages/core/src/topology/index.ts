export { didYouMean } from './did-you-mean';
export { formatIssue, TopologyInvalidError, type TopologyIssue } from './errors';
export { HANDLER_KINDS } from './handler-kinds';
export { findProgram, type LoadedTopology, type LoadOptions, loadTopology, parseTopology } from './load';
export {
  type HandlerSpec,
  type ShardSpec,
  type SwarmSpec,
  type TaskSpec,
  type Topology,
  topologyJsonSchema,
  topologySchema,
  type WorkerPoolSpec,
} from './schema';
