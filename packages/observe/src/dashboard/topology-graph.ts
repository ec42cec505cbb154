import { isSwarmPattern, type SubscriptionSpecYaml, swarmMatcher, type Topology } from '@swarm/core';

export interface GraphNode {
  id: string;
  /**
   * `swarm`: a swarm; `subscriber`: a durable subscriber outside any swarm (`swarm findings
   * --subscriber`, an application); `pattern`: a topology's glob no swarm matches yet.
   */
  kind: 'swarm' | 'subscriber' | 'pattern';
  /** False for a swarm the topology declares that holds nothing on this Redis yet. */
  live: boolean;
}

/** Findings flow from `from` to `to`. */
export interface GraphEdge {
  from: string;
  to: string;
  /** The durable subscriber's name (its cursor's key in `from`). */
  subscriber: string;
  /** Where the edge is known from: the cursor Redis holds, the topology file, or both. */
  seen: 'redis' | 'topology' | 'both';
}

export interface TopologyGraph {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

/**
 * An actor's durable subscriber is named `<its swarm>.<actor>[.<key or index>]` (actor-host's
 * durableName), and its cursor is kept in the swarm it reads: so a cursor named `b.summary` in
 * swarm `a` is an edge a → b. A name whose first part is no swarm is an outside subscriber.
 */
function ownerOf(subscriber: string, swarms: ReadonlySet<string>): string | undefined {
  const dot = subscriber.indexOf('.');
  if (dot <= 0) return undefined;
  const owner = subscriber.slice(0, dot);
  return swarms.has(owner) ? owner : undefined;
}

/** The durable names actor-host gives a list of subscriptions (see durableName in @swarm/core). */
function durableNames(swarm: string, actor: string, specs: readonly SubscriptionSpecYaml[]): string[] {
  return specs.map((spec, i) => {
    if (spec.key !== undefined) return `${swarm}.${actor}.${spec.key}`;
    return specs.length === 1 ? `${swarm}.${actor}` : `${swarm}.${actor}.${i}`;
  });
}

interface DeclaredEdge {
  sources: string[];
  to: string;
  subscriber: string;
}

function declaredEdges(topology: Topology): DeclaredEdge[] {
  const edges: DeclaredEdge[] = [];
  for (const [swarm, spec] of Object.entries(topology.swarms)) {
    const subscribers = [
      ...spec.shards.map((s) => ({ name: s.id, subscribe: s.subscribe })),
      ...spec.actors.map((a) => ({ name: a.name, subscribe: a.subscribe })),
    ];
    for (const { name, subscribe } of subscribers) {
      const names = durableNames(swarm, name, subscribe);
      subscribe.forEach((sub, i) => {
        edges.push({ sources: sub.swarms, to: swarm, subscriber: names[i] as string });
      });
    }
  }
  return edges;
}

/**
 * The swarms and the subscriptions between them: from the cursors each swarm holds (what has
 * run) and, when one is given, from a topology file (what is declared, running or not).
 */
export function topologyGraph(
  liveSwarms: readonly string[],
  cursorsBySwarm: ReadonlyMap<string, Record<string, string>>,
  topology?: Topology,
): TopologyGraph {
  const declared = topology ? Object.keys(topology.swarms) : [];
  const swarms = new Set([...liveSwarms, ...declared]);
  const live = new Set(liveSwarms);
  const nodes = new Map<string, GraphNode>();
  for (const swarm of [...swarms].sort())
    nodes.set(swarm, { id: swarm, kind: 'swarm', live: live.has(swarm) });
  const edges = new Map<string, GraphEdge>();
  const add = (from: string, to: string, subscriber: string, seen: 'redis' | 'topology') => {
    const key = JSON.stringify([from, to, subscriber]);
    const known = edges.get(key);
    if (known) known.seen = known.seen === seen ? seen : 'both';
    else edges.set(key, { from, to, subscriber, seen });
  };

  for (const [source, cursors] of cursorsBySwarm)
    for (const subscriber of Object.keys(cursors)) {
      const owner = ownerOf(subscriber, swarms);
      if (owner !== undefined) add(source, owner, subscriber, 'redis');
      else {
        if (!nodes.has(subscriber)) nodes.set(subscriber, { id: subscriber, kind: 'subscriber', live: true });
        add(source, subscriber, subscriber, 'redis');
      }
    }

  if (topology)
    for (const edge of declaredEdges(topology))
      for (const source of edge.sources) {
        if (!isSwarmPattern(source)) {
          if (!nodes.has(source)) nodes.set(source, { id: source, kind: 'swarm', live: live.has(source) });
          add(source, edge.to, edge.subscriber, 'topology');
          continue;
        }
        const matching = [...swarms].filter(swarmMatcher([source]));
        if (matching.length > 0)
          for (const swarm of matching) add(swarm, edge.to, edge.subscriber, 'topology');
        else {
          if (!nodes.has(source)) nodes.set(source, { id: source, kind: 'pattern', live: false });
          add(source, edge.to, edge.subscriber, 'topology');
        }
      }

  return { nodes: [...nodes.values()], edges: [...edges.values()] };
}
