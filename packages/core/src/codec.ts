import type { AttemptError, DeadLetter, Finding, JsonValue, Task, Usage } from './messages';
import { traceCarrierFromJson } from './tracing/task-trace';

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
  trace?: Record<string, string>;
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
    trace: task.trace,
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
  // A trace context that does not fit is dropped, not refused: tracing must never stop the work.
  const trace = wire.trace === undefined ? undefined : traceCarrierFromJson(wire.trace);
  if (trace !== undefined) task.trace = trace;
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

/**
 * The type of the stand-in a reader hands over for a finding entry it cannot take: one with no
 * `finding` field, not a JSON object, or missing a required key (see docs/PROTOCOL.md). Readers
 * neither stall behind such an entry nor pass it off as a finding: it keeps its place in stream
 * order, as a finding of this type, tagged `malformed`, that says what is wrong.
 */
export const MALFORMED_FINDING_TYPE = 'swarm.malformed';

const msOfId = (id: string) => {
  const ms = Number(id.split('-')[0]);
  return Number.isSafeInteger(ms) ? ms : 0;
};

function malformedFinding(swarm: string, id: string, reason: string, raw: string): Finding {
  return {
    id,
    swarm,
    taskId: '',
    type: MALFORMED_FINDING_TYPE,
    summary: `malformed finding entry: ${reason}`,
    data: raw,
    workerId: '',
    attempt: 0,
    contextVersion: undefined,
    parent: undefined,
    tags: ['malformed'],
    createdAt: msOfId(id),
  };
}

const isStringArray = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every((v) => typeof v === 'string');

/** Why a parsed finding does not meet the protocol's required keys, or undefined when it does. */
function findingDefect(wire: Record<string, unknown>): string | undefined {
  for (const name of ['taskId', 'type'] as const)
    if (typeof wire[name] !== 'string' || wire[name] === '') return `"${name}" must be a non-empty string`;
  for (const name of ['summary', 'workerId'] as const)
    if (typeof wire[name] !== 'string') return `"${name}" must be a string`;
  for (const name of ['attempt', 'createdAt'] as const) {
    const value = wire[name];
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
      return `"${name}" must be an integer >= 0`;
  }
  for (const name of ['swarm', 'contextVersion', 'parent'] as const)
    if (wire[name] !== undefined && wire[name] !== null && typeof wire[name] !== 'string')
      return `"${name}" must be a string when present`;
  if (wire.tags !== undefined && wire.tags !== null && !isStringArray(wire.tags))
    return '"tags" must be an array of strings when present';
  if (
    wire.usage !== undefined &&
    wire.usage !== null &&
    (typeof wire.usage !== 'object' || Array.isArray(wire.usage))
  )
    return '"usage" must be an object when present';
  return undefined;
}

/** A W3C trace id: 32 lower-case hex digits. */
const TRACE_ID = /^[0-9a-f]{32}$/;

/**
 * A finding from its parsed JSON (a stream entry's `finding` field, or one finding of a
 * broadcast), strictly: anything that misses a required key becomes the malformed stand-in.
 * The swarm is the stream's, whatever the entry says; so is the id.
 */
export function findingFromJson(swarm: string, id: string, wire: unknown, raw: string): Finding {
  if (wire === null || typeof wire !== 'object' || Array.isArray(wire))
    return malformedFinding(swarm, id, '"finding" is not a JSON object', raw);
  const w = wire as Record<string, unknown>;
  const defect = findingDefect(w);
  if (defect !== undefined) return malformedFinding(swarm, id, defect, raw);
  const finding: Finding = {
    id,
    swarm,
    taskId: w.taskId as string,
    type: w.type as string,
    summary: w.summary as string,
    data: nestedDeeperThan(w.data, MAX_DATA_DEPTH)
      ? `[data nested deeper than ${MAX_DATA_DEPTH} levels]`
      : ((w.data ?? null) as JsonValue),
    workerId: w.workerId as string,
    attempt: w.attempt as number,
    contextVersion: (w.contextVersion ?? undefined) as string | undefined,
    parent: (w.parent ?? undefined) as string | undefined,
    tags: (w.tags ?? []) as string[],
    createdAt: w.createdAt as number,
  };
  if (w.usage !== undefined && w.usage !== null) finding.usage = w.usage as Usage;
  if (typeof w.traceId === 'string' && TRACE_ID.test(w.traceId)) finding.traceId = w.traceId;
  return finding;
}

/** True when a finding is the stand-in for an entry that is not a finding (see findingFromJson). */
export const isMalformedFinding = (finding: Finding): boolean => finding.type === MALFORMED_FINDING_TYPE;

export function decodeFinding(swarm: string, id: string, fields: Fields): Finding {
  const raw = fields.finding;
  if (raw === undefined) return malformedFinding(swarm, id, 'no "finding" field', JSON.stringify(fields));
  let wire: unknown;
  try {
    wire = JSON.parse(raw);
  } catch {
    return malformedFinding(swarm, id, '"finding" is not valid JSON', raw);
  }
  return findingFromJson(swarm, id, wire, raw);
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
