import type { JsonValue } from '@swarm/core';
import { UsageError } from './errors';

/** A flag that must be a positive integer; `fallback` when it was not given. */
export function positiveInt(value: string | boolean | undefined, fallback: number, flag: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1)
    throw new UsageError(`${flag} must be a positive integer, got ${String(value)}`);
  return n;
}

/** A flag that must be a number of seconds ≥ 0, as milliseconds; `fallback` seconds when not given. */
export function secondsFlag(value: string | boolean | undefined, fallback: number, flag: string): number {
  const seconds = value === undefined ? fallback : Number(value);
  if (typeof value === 'boolean' || !Number.isFinite(seconds) || seconds < 0)
    throw new UsageError(`${flag} must be a number of seconds, got ${String(value)}`);
  return Math.round(seconds * 1_000);
}

/** A flag holding JSON; null when it was not given. */
export function jsonFlag(value: string | boolean | undefined, flag: string): JsonValue {
  if (typeof value !== 'string') return null;
  try {
    return JSON.parse(value) as JsonValue;
  } catch (error) {
    throw new UsageError(`${flag} is not valid JSON: ${(error as Error).message}`);
  }
}

/** A flag declared `multiple` (`--tag a --tag b`), as a list of its string values. */
export function listFlag(value: unknown): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === 'string');
}
