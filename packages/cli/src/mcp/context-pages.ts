import type { Bus } from '@swarm/core';
import { BadRangeError } from './errors';

/** Largest page one read_context call returns: an agent's tool result must stay readable. */
export const MAX_PAGE_BYTES = 1024 * 1024;
export const DEFAULT_PAGE_BYTES = 32 * 1024;
export const MAX_PAGE_LINES = 20_000;
export const DEFAULT_PAGE_LINES = 400;
export interface PageRequest {
  offset?: number;
  length?: number;
  line?: number;
  lines?: number;
}

export interface ContextPage {
  text: string;
  /** The bytes returned: [offset, offset + length). */
  offset: number;
  length: number;
  /** The 1-based lines the page touches (0 and 0 for an empty page). */
  firstLine: number;
  lastLine: number;
  totalBytes: number;
  totalLines: number;
  more: boolean;
  /** Where the next page starts, in the unit asked for; null at the end. */
  next: { offset: number } | { line: number } | null;
}

interface Indexed {
  content: Buffer;
  /** Byte offset of each line's first byte. */
  lineStarts: Uint32Array;
}

/**
 * Pages of a stored context, by bytes or by lines, so an agent reads an 800 KB context a page at
 * a time. The content comes from the bus's context store, which caches it per process; the line
 * index is built once per cached buffer and goes when the store lets the buffer go.
 */
export class ContextPages {
  readonly #lineStarts = new WeakMap<Buffer, Uint32Array>();

  constructor(private readonly bus: Bus) {}

  async read(swarm: string, ref: string, request: PageRequest): Promise<ContextPage> {
    const byLine = request.line !== undefined || request.lines !== undefined;
    if (byLine && (request.offset !== undefined || request.length !== undefined))
      throw new BadRangeError('give offset and length, or line and lines, not both');
    const indexed = await this.#indexed(swarm, ref);
    return byLine ? pageOfLines(indexed, request) : pageOfBytes(indexed, request);
  }

  /** The context's size in bytes and lines; fetching it also readies its pages. */
  async size(swarm: string, ref: string): Promise<{ bytes: number; lines: number }> {
    const { content, lineStarts } = await this.#indexed(swarm, ref);
    return { bytes: content.length, lines: lineStarts.length };
  }

  async #indexed(swarm: string, ref: string): Promise<Indexed> {
    const content = await this.bus.context.get(swarm, ref);
    let lineStarts = this.#lineStarts.get(content);
    if (!lineStarts) {
      lineStarts = lineStartsOf(content);
      this.#lineStarts.set(content, lineStarts);
    }
    return { content, lineStarts };
  }
}

function lineStartsOf(content: Buffer): Uint32Array {
  if (content.length === 0) return new Uint32Array(0);
  let count = 1;
  for (let at = content.indexOf(10); at !== -1 && at + 1 < content.length; at = content.indexOf(10, at + 1))
    count++;
  const starts = new Uint32Array(count);
  let line = 1;
  for (let at = content.indexOf(10); at !== -1 && at + 1 < content.length; at = content.indexOf(10, at + 1))
    starts[line++] = at + 1;
  return starts;
}

/** The 1-based line holding byte `at`: the number of line starts at or before it. */
function lineOf(lineStarts: Uint32Array, at: number): number {
  let low = 0;
  let high = lineStarts.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((lineStarts[mid] as number) <= at) low = mid + 1;
    else high = mid;
  }
  return low;
}

const isContinuationByte = (content: Buffer, at: number) => ((content[at] as number) & 0xc0) === 0x80;

function pageOfBytes({ content, lineStarts }: Indexed, request: { offset?: number; length?: number }) {
  const total = content.length;
  const offset = request.offset ?? 0;
  const length = Math.min(request.length ?? DEFAULT_PAGE_BYTES, MAX_PAGE_BYTES);
  if (offset > total)
    throw new BadRangeError(`offset ${offset} is past the end: the context is ${total} bytes`);
  // A page starts and ends on UTF-8 character boundaries, so its text never holds half a character
  // and the pages, joined, are the context.
  let start = offset;
  while (start < total && isContinuationByte(content, start)) start++;
  let end = Math.min(start + length, total);
  while (end > start && end < total && isContinuationByte(content, end)) end--;
  if (end === start && start < total) {
    end = start + 1;
    while (end < total && isContinuationByte(content, end)) end++;
  }
  return page(content, lineStarts, start, end, end < total ? { offset: end } : null);
}

function pageOfLines({ content, lineStarts }: Indexed, request: { line?: number; lines?: number }) {
  const totalLines = lineStarts.length;
  const first = request.line ?? 1;
  const count = Math.min(request.lines ?? DEFAULT_PAGE_LINES, MAX_PAGE_LINES);
  if (first > totalLines + 1)
    throw new BadRangeError(`line ${first} is past the end: the context has ${totalLines} lines`);
  const startOf = (line: number) => (line > totalLines ? content.length : (lineStarts[line - 1] as number));
  const start = startOf(first);
  let last = Math.min(first + count - 1, totalLines);
  while (last >= first && startOf(last + 1) - start > MAX_PAGE_BYTES) last--;
  if (last < first && first <= totalLines)
    throw new BadRangeError(
      `line ${first} alone is over ${MAX_PAGE_BYTES} bytes: read it by offset and length (offset ${start})`,
    );
  const end = startOf(last + 1);
  return page(content, lineStarts, start, end, last < totalLines ? { line: last + 1 } : null);
}

function page(
  content: Buffer,
  lineStarts: Uint32Array,
  start: number,
  end: number,
  next: ContextPage['next'],
): ContextPage {
  const empty = end === start;
  return {
    text: content.toString('utf8', start, end),
    offset: start,
    length: end - start,
    firstLine: empty ? 0 : lineOf(lineStarts, start),
    lastLine: empty ? 0 : lineOf(lineStarts, end - 1),
    totalBytes: content.length,
    totalLines: lineStarts.length,
    more: next !== null,
    next,
  };
}
