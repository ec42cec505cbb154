import {
  checkActors,
  type LoadedTopology,
  MemoryBus,
  TopologyInvalidError,
  type TopologyIssue,
} from '@swarm/core';
import { unmatchedPatterns } from '@swarm/shard';
import { resolveHandler } from '@swarm/worker';

type Path = (string | number)[];

const formatPath = (path: Path) =>
  path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');

/**
 * What `swarm run` would refuse at start, found without starting anything: custom actors that do
 * not load or whose config their schema refuses, module handlers without the export named, and
 * shard context patterns that match no file. Every problem at its place in the file, all at once.
 * `validate` runs it, so a file it passes is one `run` accepts.
 */
export async function checkRunnable(loaded: LoadedTopology): Promise<void> {
  const issues: TopologyIssue[] = [];
  const report = (path: Path, message: string) =>
    issues.push({ file: loaded.file, ...loaded.locate(path), path: formatPath(path), message });
  try {
    await checkActors(loaded);
  } catch (error) {
    if (!(error instanceof TopologyInvalidError)) throw error;
    issues.push(...error.issues);
  }
  // A module handler is loaded as a pool would load it; the bus is there for the signature only.
  const bus = new MemoryBus();
  try {
    for (const [swarm, spec] of Object.entries(loaded.topology.swarms)) {
      for (const [i, pool] of spec.workers.entries()) {
        const { module, export: name } = pool.handler;
        if (module === undefined) continue;
        await resolveHandler({ module, export: name }, loaded.dir, bus).catch((error: unknown) =>
          report(
            ['swarms', swarm, 'workers', i, 'handler', name !== undefined ? 'export' : 'module'],
            error instanceof Error ? error.message : String(error),
          ),
        );
      }
      for (const [i, shard] of spec.shards.entries()) {
        const patterns = shard.context?.files ?? [];
        for (const pattern of await unmatchedPatterns(patterns, loaded.dir))
          report(
            ['swarms', swarm, 'shards', i, 'context', 'files', patterns.indexOf(pattern)],
            `context file pattern ${JSON.stringify(pattern)} matches no file under ${loaded.dir}`,
          );
      }
    }
  } finally {
    await bus.close();
  }
  if (issues.length > 0)
    throw new TopologyInvalidError(issues.sort((a, b) => a.line - b.line || a.col - b.col));
}
