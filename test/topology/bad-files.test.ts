import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkActors, loadTopology, TopologyInvalidError } from '@swarm/core';
import { describe, expect, it } from 'vitest';

/**
 * Each file in test/fixtures/topologies/bad starts with `# expect: line:col: message` lines;
 * loading it (and checking its actors) must fail with an error that says each of them, at that position.
 */
const dir = join(import.meta.dirname, '../fixtures/topologies/bad');
const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));

describe('topology validation', () => {
  it('has a corpus of bad files', () => {
    expect(files.length).toBeGreaterThanOrEqual(10);
  });

  it.each(files)('rejects %s with the expected positions and messages', async (name) => {
    const file = join(dir, name);
    const expected = readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('# expect: '))
      .map((line) => line.slice('# expect: '.length));
    expect(expected.length).toBeGreaterThan(0);
    let error: unknown;
    try {
      // Custom actors' configs are checked after loading, by the schema each actor exports.
      await checkActors(loadTopology(file, { env: {} }));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TopologyInvalidError);
    const message = (error as TopologyInvalidError).message;
    for (const line of expected) expect(message).toContain(`${file}:${line}`);
    expect((error as TopologyInvalidError).code).toBe('SWARM_TOPOLOGY_INVALID');
  });
});
