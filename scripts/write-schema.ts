/** Writes config/swarm.schema.json from the zod schema (the one source of truth). */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { topologyJsonSchema } from '@swarm/core';

const target = join(import.meta.dirname, '../config/swarm.schema.json');
writeFileSync(target, `${JSON.stringify(topologyJsonSchema(), null, 2)}\n`);
console.log(`wrote ${target}`);
