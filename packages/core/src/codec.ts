import type { AttemptError, DeadLetter, Finding, JsonValue, Task } from './messages';

/**
 * Stream entries are flat string maps (see docs/PROTOCOL.md). Decoding is strict:
 * an entry written by a foreign client that does not fit is rejected with the reason.
 */

export type Fields = Record<string, string>;

export function fieldsFromArray(flat: readonly string[]): Fields {
  const out: Fields = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i] as string] = flat[i + 1] as string;
  return out;
}

export function fieldsToArray(fields: Fields): string[] {
  const out: string[] = [];
  for (const name in fields) out.push(name, fields[name] as string);
  return out;
}

export function encodeTask(task: Task): Fields {
  const fields: Fields = {
    id: task.id,
    description: task.description,
    data: JSON.stringify(task.data),
    attempt: String(task.attempt),
    created: String(task.createdAt),
  };
  if (task.parent !== undefined) fields.parent = task.parent;
  if (task.context !== undefined) fields.context = task.context;
  if (task.idempotencyKey !== undefined) fields.idem = task.idempotencyKey;
  if (task.errors.length > 0) fields.errors = JSON.stringify(task.errors);
  return fields;
}

export class MalformedEntryError extends Error {}

function required(fields: Fields, name: string): string {
  const value = fields[name];
  if (value === undefined) throw new MalformedEntryError(`missing field "${name}"`);
  return value;
}

function integer(fields: Fields, name: string, min: number): number {
  const raw = required(fields, name);
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min || !/^\d+$/.test(raw))
    throw new MalformedEntryError(
      `field "${name}" is not an integer >= ${min}: ${JSON.stringify(raw.slice(0, 40))}`,
    );
  return value;
}

function json(fields: Fields, name: string): JsonValue {
  const raw = fields[name];
  if (raw === undefined) return null;
  try {
    return JSON.parse(raw) as JsonValue;
  } catch {
    throw new MalformedEntryError(`field "${name}" is not valid JSON`);
  }
}

function attemptErrors(fields: Fields): AttemptError[] {
  const value = json(fields, 'errors');
  if (value === null) return [];
  if (!Array.isArray(value)) throw new MalformedEntryError('field "errors" is not a JSON array');
  return value as unknown as AttemptError[];
}

/** Decodes a task entry; `deliveries` is how often the stream handed this entry out. */
export function decodeTask(swarm: string, type: string, fields: Fields, deliveries = 1): Task {
  const id = required(fields, 'id');
  if (id.length === 0 || id.length > 200)
    throw new MalformedEntryError('field "id" must be 1-200 characters');
  return {
    id,
    swarm,
    type,
    description: fields.description ?? '',
    data: json(fields, 'data'),
    parent: fields.parent,
    context: fields.context,
    attempt: integer(fields, 'attempt', 1) + deliveries - 1,
    createdAt: integer(fields, 'created', 0),
    idempotencyKey: fields.idem,
    errors: attemptErrors(fields),
  };
}

export function encodeFinding(finding: Omit<Finding, 'id' | 'swarm'>): Fields {
  const fields: Fields = {
    task: finding.taskId,
    type: finding.type,
    summary: finding.summary,
    data: JSON.stringify(finding.data),
    worker: finding.workerId,
    attempt: String(finding.attempt),
    created: String(finding.createdAt),
  };
  if (finding.contextVersion !== undefined) fields.ctx = finding.contextVersion;
  return fields;
}

export function decodeFinding(swarm: string, id: string, fields: Fields): Finding {
  return {
    id,
    swarm,
    taskId: fields.task ?? '',
    type: fields.type ?? '',
    summary: fields.summary ?? '',
    data: safeJson(fields.data),
    workerId: fields.worker ?? '',
    attempt: Number(fields.attempt ?? 0),
    contextVersion: fields.ctx,
    createdAt: Number(fields.created ?? 0),
  };
}

function safeJson(raw: string | undefined): JsonValue {
  if (raw === undefined) return null;
  try {
    return JSON.parse(raw) as JsonValue;
  } catch {
    return raw;
  }
}

export function encodeDeadLetter(
  type: string,
  reason: string,
  errors: AttemptError[],
  taskFields: Fields,
  deadAt: number,
): Fields {
  return {
    type,
    reason,
    dead_at: String(deadAt),
    errors: JSON.stringify(errors),
    task: JSON.stringify(taskFields),
  };
}

export function decodeDeadLetter(swarm: string, id: string, fields: Fields): DeadLetter {
  const type = fields.type ?? '';
  const raw = (safeJson(fields.task) ?? {}) as Fields;
  let task: Task | undefined;
  try {
    task = decodeTask(swarm, type, raw);
  } catch {
    task = undefined;
  }
  const errors = safeJson(fields.errors);
  return {
    id,
    swarm,
    type,
    reason: fields.reason ?? '',
    deadAt: Number(fields.dead_at ?? 0),
    task,
    errors: Array.isArray(errors) ? (errors as unknown as AttemptError[]) : [],
    raw,
  };
}

export function payloadBytes(task: Task): number {
  return Buffer.byteLength(task.description) + Buffer.byteLength(JSON.stringify(task.data));
}
