import { type FindingInput, type JsonValue, MAX_DATA_DEPTH, nestedDeeperThan, type Usage } from '@swarm/core';

const SHAPE = 'return a string or { summary, data? }';

/** Turns what a handler returned into a finding, or throws saying what was wrong with it. */
export function toFinding(value: unknown): FindingInput {
  if (typeof value === 'string') return { summary: value };
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new Error(`handler returned ${describeValue(value)}: ${SHAPE}`);
  const { summary, data, contextVersion, tags, usage } = value as Record<string, unknown>;
  if (typeof summary !== 'string')
    throw new Error(`handler returned an object without a string summary (${preview(value)}): ${SHAPE}`);
  const finding: FindingInput = { summary };
  if (data !== undefined) finding.data = toJson(data);
  if (typeof contextVersion === 'string') finding.contextVersion = contextVersion;
  if (Array.isArray(tags)) finding.tags = tags.filter((t): t is string => typeof t === 'string');
  // What a model worker spent (the llm handler's); kept as it is, like data.
  if (usage !== null && typeof usage === 'object' && !Array.isArray(usage))
    finding.usage = toJson(usage) as unknown as Usage;
  return finding;
}

/** A deep copy of `data` as plain JSON, so what is stored is exactly what a reader gets back. */
function toJson(data: unknown): JsonValue {
  let text: string | undefined;
  try {
    text = JSON.stringify(data);
  } catch (error) {
    throw new Error(`handler returned data that is not JSON: ${(error as Error).message}`);
  }
  if (text === undefined) throw new Error(`handler returned data that is not JSON: ${describeValue(data)}`);
  const json = JSON.parse(text) as JsonValue;
  if (nestedDeeperThan(json, MAX_DATA_DEPTH))
    throw new Error(`handler returned data nested deeper than ${MAX_DATA_DEPTH} levels`);
  return json;
}

/**
 * An Error for anything a handler threw: Errors pass through; a string becomes the message;
 * other values are shown as JSON, so a dead letter always says something readable.
 */
export function toError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown;
  if (typeof thrown === 'string') return new Error(thrown || 'handler threw an empty string');
  if (thrown === undefined || thrown === null) return new Error(`handler threw ${String(thrown)}`);
  if (typeof thrown === 'object' && typeof (thrown as { message?: unknown }).message === 'string') {
    const message = (thrown as { message: string }).message;
    if (message) return new Error(message);
  }
  return new Error(`handler threw a non-Error value: ${preview(thrown)}`);
}

export function describeValue(value: unknown): string {
  if (value === undefined || value === null) return String(value);
  if (Array.isArray(value)) return `an array (${preview(value)})`;
  if (typeof value === 'object') return `an object (${preview(value)})`;
  if (typeof value === 'function') return 'a function';
  return `a ${typeof value} (${preview(value)})`;
}

/** JSON of a value, cut to a readable length. */
export function preview(value: unknown, max = 200): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
