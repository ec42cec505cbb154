import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { glob } from 'tinyglobby';
import { ContextFilesMissingError } from './errors';

/** What a shard's context is made of: a text, files (glob patterns), or both. */
export interface ContextSource {
  text?: string;
  /** Glob patterns relative to the shard's baseDir; each must match at least one file. */
  files?: string[];
}

/**
 * Builds the context document: the text as given when there are no files; otherwise the text
 * (ending in a newline) followed by every matched file in path order, each under a
 * "=== path ===" header line and ending in a newline. Same inputs, same bytes, same version.
 */
export async function assembleContext(
  source: ContextSource,
  baseDir: string,
): Promise<{ content: string; files: string[] }> {
  const files = await matchFiles(source.files ?? [], baseDir);
  if (files.length === 0) return { content: source.text ?? '', files };
  const parts: string[] = [];
  if (source.text !== undefined) parts.push(withNewline(source.text));
  for (const file of files) {
    const body = await readFile(join(baseDir, file), 'utf8');
    parts.push(`=== ${file} ===\n${withNewline(body)}`);
  }
  return { content: parts.join(''), files };
}

/** Files matched by any pattern, deduplicated, sorted by path; a pattern matching nothing throws. */
async function matchFiles(patterns: string[], baseDir: string): Promise<string[]> {
  const matches = await Promise.all(
    patterns.map(async (pattern) => {
      const found = await glob([pattern], { cwd: baseDir, onlyFiles: true, expandDirectories: false });
      if (found.length === 0) throw new ContextFilesMissingError(pattern, baseDir);
      return found;
    }),
  );
  return [...new Set(matches.flat())].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The patterns that match no file (what a shard would refuse at start), for `swarm validate`. */
export async function unmatchedPatterns(patterns: string[], baseDir: string): Promise<string[]> {
  const found = await Promise.all(
    patterns.map((pattern) => glob([pattern], { cwd: baseDir, onlyFiles: true, expandDirectories: false })),
  );
  return patterns.filter((_, i) => found[i]?.length === 0);
}

function withNewline(text: string): string {
  return text === '' || text.endsWith('\n') ? text : `${text}\n`;
}
