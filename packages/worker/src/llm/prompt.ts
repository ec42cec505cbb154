/**
 * What a model is sent for a task: the pool's system prompt, then the shard's context as a
 * message part of its own (the same bytes for every task of the shard, so the vendor can cache it
 * as a prefix), then the pool's prompt template filled in with the task.
 */
import type { JsonValue, Task } from '@swarm/core';
import type { ModelMessage, TextPart } from 'ai';
import { estimateTokens } from './models';

const PLACEHOLDER = /\{\{\s*(description|data(?:\.[A-Za-z0-9_-]+)*)\s*\}\}/g;

function lookUp(data: JsonValue, path: readonly string[]): JsonValue | undefined {
  let value: JsonValue | undefined = data;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = Array.isArray(value) ? value[Number(key)] : Object.hasOwn(value, key) ? value[key] : undefined;
  }
  return value;
}

/**
 * The prompt template filled in: `{{description}}`, `{{data}}` (the task's data as JSON) and
 * `{{data.key}}` (a string as it is, anything else as JSON; nothing when absent).
 */
export function renderPrompt(template: string, task: Pick<Task, 'description' | 'data'>): string {
  return template.replace(PLACEHOLDER, (_, name: string) => {
    if (name === 'description') return task.description;
    const value = lookUp(task.data ?? null, name.split('.').slice(1));
    if (value === undefined || (name === 'data' && value === null)) return '';
    return typeof value === 'string' ? value : JSON.stringify(value);
  });
}

export interface Prompt {
  system: string | undefined;
  messages: ModelMessage[];
  /** Estimated tokens of all of it: what routing, budgets and rate limits count before the call. */
  tokens: number;
}

/**
 * The messages of one call. Anthropic caches only what a `cacheControl` mark ends, so the context
 * part carries one; OpenAI, Gemini and DeepSeek cache a repeated prefix on their own.
 */
export function buildPrompt(parts: { system?: string; context?: string; prompt: string }): Prompt {
  const content: TextPart[] = [];
  if (parts.context)
    content.push({
      type: 'text',
      text: parts.context,
      providerOptions: { anthropic: { cacheControl: { type: 'ephemeral' } } },
    });
  content.push({ type: 'text', text: parts.prompt });
  const tokens =
    estimateTokens(parts.system ?? '') + estimateTokens(parts.context ?? '') + estimateTokens(parts.prompt);
  return { system: parts.system, messages: [{ role: 'user', content }], tokens };
}
