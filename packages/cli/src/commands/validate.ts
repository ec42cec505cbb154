import { loadTopology } from '@swarm/core';
import { checkModel } from '@swarm/worker';
import type { Command } from '../command';
import { UsageError } from '../errors';
import { checkRunnable } from '../topology-check';

export const validate: Command = {
  name: 'validate',
  usage: 'swarm validate <topology>',
  summary:
    'check a topology file as run would (modules, handler exports, context files) and report every problem with file:line:col',
  options: {},
  async run({ positionals, out }) {
    const [file] = positionals;
    if (!file) throw new UsageError('swarm validate needs a topology file');
    // The worker's price table checks each llm pool's models, at their lines in the file.
    const loaded = loadTopology(file, { checkModel });
    // Actors and module handlers are imported, and context patterns matched, as `run` would.
    await checkRunnable(loaded);
    const { topology, file: path } = loaded;
    const swarms = Object.entries(topology.swarms).map(([name, spec]) => ({
      name,
      shards: spec.shards.map((s) => s.id),
      workers: spec.workers.map((w) => w.type),
      actors: spec.actors.map((a) => a.name),
    }));
    out.result(
      `${path}: valid\n${swarms.map((s) => `  swarm ${s.name}: ${s.shards.length} shard(s), worker pools: ${s.workers.join(', ') || 'none'}${s.actors.length ? `, actors: ${s.actors.join(', ')}` : ''}`).join('\n')}`,
      { valid: true, file: path, swarms },
    );
    return 0;
  },
};
