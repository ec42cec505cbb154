import type { AttemptError, DeadLetter, Finding, JsonValue, Task } from './messages';

/**
 * Stream entries (see docs/PROTOCOL.md). A task entry is one field, `task`, holding the task as
 * JSON; a finding entry is one field, `finding`. One field per entry keeps both the writer's
 * arguments and the reader's parsing to a single JSON string, which is most of the hot path.
 * Decoding is strict: an entry written by a foreign client that does not fit is rejected with
 * the reason, and the consumer dead-letters it.
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

/** The task as stored: swarm and type are implied by the stream it sits on. */
interface TaskWire {
  id: string;
  description?: string;
  data?: JsonValue;
  parent?: string;
  context?: string;
  attempt: number;
  created: number;
  idem?: string;
  errors?: AttemptError[];
  deadline?: number;
}

export function encodeTask(task: Task): Fields {
  const wire: TaskWire = {
    id: task.id,
    description: task.description,
    data: task.data,
    parent: task.parent,
    context: task.context,
    attempt: task.attempt,
    created: task.createdAt,
    idem: task.idempotencyKey,
    errors: task.errors.length > 0 ? task.errors : undefined,
    deadline: task.deadline,
  };
  return { task: JSON.stringify(wire) };
}

export class MalformedEntryError extends Error {}

/**
 * Deepest nesting a task's or finding's data may have. Far beyond what real data needs, and far
 * inside what every reader can take: Redis's cjson stops at 1,000 levels, and printing or
 * re-encoding deeper data can overflow the stack.
 */
export const MAX_DATA_DEPTH = 256;

/** True when `value` nests deeper than `max` levels of arrays and objects. */
export function nestedDeeperThan(value: unknown, max: number): boolean {
  let level: unknown[] = [value];
  for (let depth = 0; level.length > 0; depth++) {
    const next: unknown[] = [];
    for (const v of level)
      if (v !== null && typeof v === 'object') {
        if (depth >= max) return true;
        for (const child of Object.values(v as object)) next.push(child);
      }
    level = next;
  }
  return false;
}

function parseObject(fields: Fields, name: string): Record<string, unknown> {
  const raw = fields[name];
  if (raw === undefined) throw new MalformedEntryError(`missing field "${name}"`);
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new MalformedEntryError(`field "${name}" is not valid JSON`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new MalformedEntryError(`field "${name}" is not a JSON object`);
  return value as Record<string, unknown>;
}

function optionalString(wire: Record<string, unknown>, name: string): string | undefined {
  const value = wire[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new MalformedEntryError(`"${name}" must be a string`);
  return value;
}

function integer(wire: Record<string, unknown>, name: string, min: number): number {
  const value = wire[name];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min)
    throw new MalformedEntryError(
      `"${name}" must be an integer >= ${min}, not ${JSON.stringify(value) ?? 'absent'}`,
    );
  return value;
}

/** Decodes a task entry; `deliveries` is how often the stream handed this entry out. */
export function decodeTask(swarm: string, type: string, fields: Fields, deliveries = 1): Task {
  const wire = parseObject(fields, 'task');
  const id = wire.id;
  if (typeof id !== 'string' || id.length === 0 || id.length > 200)
    throw new MalformedEntryError('"id" must be a string of 1-200 characters');
  const errors = wire.errors ?? [];
  if (!Array.isArray(errors)) throw new MalformedEntryError('"errors" must be an array');
  if (nestedDeeperThan(wire.data, MAX_DATA_DEPTH))
    throw new MalformedEntryError(`"data" is nested deeper than ${MAX_DATA_DEPTH} levels`);
  const task: Task = {
    id,
    swarm,
    type,
    description: optionalString(wire, 'description') ?? '',
    data: (wire.data ?? null) as JsonValue,
    parent: optionalString(wire, 'parent'),
    context: optionalString(wire, 'context'),
    attempt: integer(wire, 'attempt', 1) + deliveries - 1,
    createdAt: integer(wire, 'created', 0),
    idempotencyKey: optionalString(wire, 'idem'),
    errors: errors as AttemptError[],
  };
  if (wire.deadline !== undefined && wire.deadline !== null) task.deadline = integer(wire, 'deadline', 0);
  return task;
}

/** The attempt and errors a task entry records, or undefined if it does not parse. */
export function taskHistoryOf(fields: Fields): { attempt: number; errors: AttemptError[] } | undefined {
  try {
    const task = decodeTask('', '', fields);
    return { attempt: task.attempt, errors: task.errors };
  } catch {
    return undefined;
  }
}

/** A finding as stored and as broadcast: everything but its id, which is the entry id. */
export function encodeFinding(finding: Omit<Finding, 'id'>): Fields {
  return { finding: JSON.stringify(finding) };
}

/** A foreign writer's `"attempt": "many"` or `"createdAt": {}` reads as 0, never NaN (JSON has no NaN). */
function finiteOrZero(value: unknown): number {
  const n = Number(value ?? 0);
  return Number.isFinite(n) ? n : 0;
}

export function decodeFinding(swarm: string, id: string, fields: Fields): Finding {
  let wire: Partial<Finding> = {};
  try {
    wire = parseObject(fields, 'finding') as Partial<Finding>;
  } catch {
    // A foreign writer's entry: surface it rather than stall every reader behind it.
    wire = { summary: '', data: (fields.finding ?? JSON.stringify(fields)) as JsonValue };
  }
  return {
    id,
    swarm,
    taskId: String(wire.taskId ?? ''),
    type: String(wire.type ?? ''),
    summary: String(wire.summary ?? ''),
    data: nestedDeeperThan(wire.data, MAX_DATA_DEPTH)
      ? `[data nested deeper than ${MAX_DATA_DEPTH} levels]`
      : ((wire.data ?? null) as JsonValue),
    workerId: String(wire.workerId ?? ''),
    attempt: finiteOrZero(wire.attempt),
    contextVersion: typeof wire.contextVersion === 'string' ? wire.contextVersion : undefined,
    parent: typeof wire.parent === 'string' ? wire.parent : undefined,
    tags: Array.isArray(wire.tags) ? wire.tags.filter((t): t is string => typeof t === 'string') : [],
    createdAt: finiteOrZero(wire.createdAt),
  };
}

export function encodeDeadLetter(
  type: string,
  reason: string,
  errors: AttemptError[],
  entry: Fields,
  deadAt: number,
): Fields {
  return {
    type,
    reason,
    dead_at: String(deadAt),
    errors: JSON.stringify(errors),
    entry: JSON.stringify(entry),
  };
}

function safeJson(raw: string | undefined): unknown {
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}

export function decodeDeadLetter(swarm: string, id: string, fields: Fields): DeadLetter {
  const type = fields.type ?? '';
  const entry = safeJson(fields.entry);
  const raw = (entry !== null && typeof entry === 'object' ? entry : {}) as Fields;
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
    errors: Array.isArray(errors) ? (errors as AttemptError[]) : [],
    raw,
  };
}
