import { describe, expect, it } from 'vitest';
import { exampleFromSchema } from './schema-example';

describe('exampleFromSchema: the default structured answer follows the request schema', () => {
  it('fills every property, one array item, the first enum value, the echo in strings', () => {
    const schema = {
      type: 'object',
      properties: {
        label: { type: 'string', enum: ['bug', 'feature'] },
        title: { type: 'string' },
        votes: { type: 'integer', minimum: 1 },
        done: { type: 'boolean' },
        tags: { type: 'array', items: { type: 'string' } },
        note: { type: ['string', 'null'] },
      },
    };
    expect(exampleFromSchema(schema, 'echo: x')).toEqual({
      label: 'bug',
      title: 'echo: x',
      votes: 1,
      done: false,
      tags: ['echo: x'],
      note: 'echo: x',
    });
  });

  it('follows $ref into $defs, takes the first non-null union branch, and stops a recursive schema', () => {
    const schema = {
      $defs: { node: { type: 'object', properties: { child: { $ref: '#/$defs/node' } } } },
      type: 'object',
      properties: { root: { $ref: '#/$defs/node' }, id: { anyOf: [{ type: 'null' }, { type: 'number' }] } },
    };
    const value = JSON.stringify(exampleFromSchema(schema, 'e'));
    expect(value).toMatch(/^\{"root":\{"child":\{"child":.*null.*\},"id":0\}$/);
  });

  it("reads Gemini's OpenAPI subset (upper-case types) and answers { echo } without a schema", () => {
    expect(exampleFromSchema({ type: 'OBJECT', properties: { n: { type: 'NUMBER' } } }, 'e')).toEqual({
      n: 0,
    });
    expect(exampleFromSchema(undefined, 'echo: hi')).toEqual({ echo: 'echo: hi' });
  });
});
