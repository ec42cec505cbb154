import type { FindingInput } from '@swarm/core';
import { preview } from '../result';

/**
 * What `output: claude` reads: the one JSON object `claude -p … --output-format json` prints.
 * Only the fields swarm uses; claude prints more (and adds fields over time).
 */
export interface ClaudeResult {
  type: 'result';
  /** `success`, or why the run stopped: `error_max_turns`, `error_during_execution`, … */
  subtype?: unknown;
  is_error?: unknown;
  /** The answer; on a failed API call, the error message. */
  result?: unknown;
  /** Details of the `error_*` subtypes. */
  errors?: unknown;
  session_id?: unknown;
  total_cost_usd?: unknown;
  duration_ms?: unknown;
  duration_api_ms?: unknown;
  num_turns?: unknown;
  usage?: unknown;
}

/** `data.usage` of a finding made from claude's result: whichever of these claude reported. */
export interface ClaudeUsage {
  costUsd?: number;
  inputTokens?: number;
  outputTokens?: number;
  cacheReadInputTokens?: number;
  cacheCreationInputTokens?: number;
  durationMs?: number;
  durationApiMs?: number;
  numTurns?: number;
}

/** claude's result object, if `stdout` is one; anything else is undefined. */
export function readClaudeResult(stdout: string): ClaudeResult | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout);
  } catch {
    return undefined;
  }
  const isResult =
    parsed !== null && typeof parsed === 'object' && (parsed as { type?: unknown }).type === 'result';
  return isResult ? (parsed as ClaudeResult) : undefined;
}

/** The message of a command whose stdout is not claude's result. */
export function notClaudeOutput(stdout: string): Error {
  const got = stdout === '' ? 'nothing' : preview(stdout);
  return new Error(
    `output: claude expects the one JSON object with "type": "result" that claude -p … --output-format json prints; the command printed ${got}`,
  );
}

/**
 * The finding: `result` is the summary, cost, tokens, durations and turns go to `data.usage`, the
 * session id to `data.sessionId` (for `claude --resume`). An error result (`is_error`, or a
 * subtype other than `success`) throws its message, so the attempt fails and is retried.
 */
export function claudeFinding(claude: ClaudeResult): FindingInput {
  if (claude.is_error === true || (claude.subtype !== undefined && claude.subtype !== 'success'))
    throw new Error(claudeError(claude));
  if (typeof claude.result !== 'string')
    throw new Error(`claude's result has no "result" text: ${preview(claude)}`);
  const usage = usageOf(claude);
  const data: Record<string, unknown> = {};
  if (Object.keys(usage).length > 0) data.usage = usage;
  if (typeof claude.session_id === 'string') data.sessionId = claude.session_id;
  return Object.keys(data).length > 0
    ? { summary: claude.result, data: data as FindingInput['data'] }
    : { summary: claude.result };
}

function claudeError(claude: ClaudeResult): string {
  const subtype =
    typeof claude.subtype === 'string' && claude.subtype !== 'success' ? ` (${claude.subtype})` : '';
  let detail = typeof claude.result === 'string' ? claude.result.trim() : '';
  if (!detail && Array.isArray(claude.errors))
    detail = claude.errors.map((e) => (typeof e === 'string' ? e : preview(e))).join('; ');
  return `claude reported an error${subtype}: ${detail || 'it gave no message'}`;
}

function usageOf(claude: ClaudeResult): ClaudeUsage {
  const tokens = (claude.usage ?? {}) as Record<string, unknown>;
  const fields: [keyof ClaudeUsage, unknown][] = [
    ['costUsd', claude.total_cost_usd],
    ['inputTokens', tokens.input_tokens],
    ['outputTokens', tokens.output_tokens],
    ['cacheReadInputTokens', tokens.cache_read_input_tokens],
    ['cacheCreationInputTokens', tokens.cache_creation_input_tokens],
    ['durationMs', claude.duration_ms],
    ['durationApiMs', claude.duration_api_ms],
    ['numTurns', claude.num_turns],
  ];
  const usage: ClaudeUsage = {};
  for (const [name, value] of fields)
    if (typeof value === 'number' && Number.isFinite(value)) usage[name] = value;
  return usage;
}
