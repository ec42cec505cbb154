import type { JsonValue } from '@swarm/core';
import { isObject, type JsonObject } from './vendors/wire';

/** Deeper than this, a (recursive) schema gets null. */
const MAX_DEPTH = 8;

/**
 * A value that follows a JSON schema (or Gemini's OpenAPI subset), with `text` in every string:
 * every property, one array item, the first enum value or union branch. Without a schema: `{ echo }`.
 */
export function exampleFromSchema(schema: JsonValue | undefined, text: string): JsonValue {
  if (schema === undefined) return { echo: text };
  return example(schema, { root: schema, text, depth: 0 });
}

interface Walk {
  root: JsonValue;
  text: string;
  depth: number;
}

function example(schema: JsonValue, walk: Walk): JsonValue {
  if (walk.depth > MAX_DEPTH) return null;
  if (!isObject(schema)) return walk.text;
  const deeper = { ...walk, depth: walk.depth + 1 };
  if (schema.const !== undefined) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0]!;
  if (typeof schema.$ref === 'string') return example(resolve(schema.$ref, walk.root), deeper);
  for (const key of ['anyOf', 'oneOf', 'allOf']) {
    const branches = schema[key];
    if (Array.isArray(branches)) {
      const branch = branches.find((b) => !(isObject(b) && b.type === 'null')) ?? branches[0];
      if (branch !== undefined) return example(branch, deeper);
    }
  }
  switch (typeOf(schema)) {
    case 'object':
      return objectExample(schema, deeper);
    case 'array': {
      const count = Math.max(typeof schema.minItems === 'number' ? schema.minItems : 1, 0);
      const limit = typeof schema.maxItems === 'number' ? Math.min(count, schema.maxItems) : count;
      return Array.from({ length: limit }, () => example(schema.items ?? {}, deeper));
    }
    case 'number':
    case 'integer':
      return typeof schema.minimum === 'number' ? schema.minimum : 0;
    case 'boolean':
      return false;
    case 'null':
      return null;
    default:
      return walk.text;
  }
}

function typeOf(schema: JsonObject): string {
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
  if (typeof type === 'string') return type.toLowerCase();
  return isObject(schema.properties) ? 'object' : 'string';
}

function objectExample(schema: JsonObject, walk: Walk): JsonObject {
  const value: JsonObject = {};
  const properties = isObject(schema.properties) ? schema.properties : {};
  for (const [name, property] of Object.entries(properties)) value[name] = example(property, walk);
  return value;
}

/** `#/definitions/x`, `#/$defs/x`: a pointer into the root schema. */
function resolve(ref: string, root: JsonValue): JsonValue {
  let node: JsonValue | undefined = root;
  for (const segment of ref.replace(/^#\/?/, '').split('/')) {
    if (segment === '') continue;
    node = isObject(node) ? node[segment.replaceAll('~1', '/').replaceAll('~0', '~')] : undefined;
  }
  return node ?? {};
}
