import { isSwarmPattern } from '@swarm/core';
import { z } from 'zod';
import { loose, swarmName, swarmStatusSchema } from '../schemas';
import { defineTool } from '../tool';

export const swarmStatus = defineTool({
  name: 'swarm_status',
  title: 'Swarm status',
  description:
    'Queue depths per task type (waiting, in flight, delayed, consumers), findings and dead letters, shards and their context versions. Without swarm: every swarm this server may touch.',
  annotations: { readOnlyHint: true },
  input: z.strictObject({ swarm: swarmName.optional() }),
  output: z.object({
    swarms: z.array(swarmStatusSchema),
    allowed: z.array(z.string()).describe("this server's --swarm list; empty: every swarm"),
  }),
  async run({ swarm }, { bus, allowed }) {
    if (swarm !== undefined) allowed.assert(swarm);
    const names =
      swarm !== undefined
        ? [swarm]
        : [
            ...new Set([
              ...(await bus.swarms()).filter((s) => allowed.allows(s)),
              ...allowed.entries.filter((e) => !isSwarmPattern(e)),
            ]),
          ].sort();
    const statuses = await Promise.all(names.map(async (s) => loose(await bus.status(s))));
    return { swarms: statuses, allowed: [...allowed.entries] };
  },
});
