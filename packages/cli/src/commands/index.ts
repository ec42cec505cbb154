import type { Command } from '../command';

/**
 * Each verb loads on demand, so `swarm post` never pays for the worker pools or the topology
 * loader. Help, which lists them all, is the only path that loads every one.
 */
export const commands: Record<string, () => Promise<Command>> = {
  run: async () => (await import('./run')).run,
  validate: async () => (await import('./validate')).validate,
  post: async () => (await import('./post')).post,
  worker: async () => (await import('./worker')).worker,
  findings: async () => (await import('./findings')).findings,
  cost: async () => (await import('./cost')).cost,
  status: async () => (await import('./status')).status,
  dlq: async () => (await import('./dlq')).dlq,
  context: async () => (await import('./context')).context,
  claim: async () => (await import('./claim')).claim,
  report: async () => (await import('./report')).report,
  renew: async () => (await import('./renew')).renew,
  fail: async () => (await import('./fail')).fail,
  protocol: async () => (await import('./protocol')).protocol,
  mcp: async () => (await import('./mcp')).mcp,
  dashboard: async () => (await import('./dashboard')).dashboard,
  unsubscribe: async () => (await import('./unsubscribe')).unsubscribe,
  completion: async () => (await import('./completion')).completion,
  acl: async () => (await import('./acl')).acl,
};
