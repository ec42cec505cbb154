// Public API of @swarm/observe: the dashboard, metrics and tracing set-up.
export { isLoopback } from './dashboard/access';
export {
  createDashboardApp,
  type DashboardApp,
  type DashboardAppOptions,
  type MetricsEndpoint,
} from './dashboard/app';
export {
  DashboardRequestError,
  DashboardTokenEmptyError,
  DashboardTokenRequiredError,
} from './dashboard/errors';
export { DEFAULT_LIVE_RATE, type LiveRate } from './dashboard/live-rate';
export type { BudgetView, DeadLetterView, SubscriberLag, SwarmOverview } from './dashboard/overview';
export { type Dashboard, type DashboardOptions, startDashboard } from './dashboard/server';
export type { GraphEdge, GraphNode, TopologyGraph } from './dashboard/topology-graph';
export { MetricsAddressError, MetricsServerError } from './metrics/errors';
export { METRICS } from './metrics/metric-names';
export { parseMetricsAddress } from './metrics/metrics-address';
export { type MetricsServer, serveMetrics } from './metrics/metrics-server';
export { ProcessMetrics } from './metrics/process-metrics';
export { type ScrapeOptions, scrapeSwarms, swarmMetricsEndpoint } from './metrics/scrape-swarms';
