import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { topologyJsonSchema } from '@swarm/core';
import { describe, expect, it } from 'vitest';

describe('config/swarm.schema.json', () => {
  it('is what the zod schema generates (run `pnpm schema` after changing it)', () => {
    const committed = JSON.parse(
      readFileSync(join(import.meta.dirname, '../../config/swarm.schema.json'), 'utf8'),
    );
    expect(committed).toEqual(topologyJsonSchema());
  });
});
