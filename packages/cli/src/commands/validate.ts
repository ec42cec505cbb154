import { loadTopology } from '@swarm/core';
import type { Command } from '../command';
import { UsageError } from '../errors';

export const validate: Command = {
  name: 'validate',
  usage: 'swarm validate <topology>',
  summary: 'check a topology file and report every problem with file:line:col',
  options: {},
  async run({ positionals, out }) {
    const [file] = positionals;
    if (!file) throw new UsageError('swarm validate needs a topology file');
    const { topology, file: path } = loadTopology(file);
    const swarms = Object.entries(topology.swarms).map(([name, spec]) => ({
      name,
      shards: spec.shards.map((s) => s.id),
      workers: spec.workers.map((w) => w.type),
    }));
    out.result(
      `${path}: valid\n${swarms.map((s) => `  swarm ${s.name}: ${s.shards.length} shard(s), worker pools: ${s.workers.join(', ') || 'none'}`).join('\n')}`,
      { valid: true, file: path, swarms },
    );
    return 0;
  },
};
