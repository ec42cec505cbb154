import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { type Document, isMap, isScalar, LineCounter, parseDocument, visit } from 'yaml';
import type { z } from 'zod';
import { durableName } from '../actor/actor-host';
import { checkModelPools, type ModelCheck } from './check-models';
import { didYouMean, keysAt } from './did-you-mean';
import { TopologyInvalidError, type TopologyIssue } from './errors';
import { HANDLER_KINDS } from './handler-kinds';
import { interpolate } from './interpolate';
import { reportMissingFiles } from './missing-files';
import { type Topology, topologySchema } from './schema';

export interface LoadedTopology {
  topology: Topology;
  /** Absolute path of the file. */
  file: string;
  /** Directory paths in the file are relative to. */
  dir: string;
  /**
   * Where a path sits in the file, for errors found after loading (an actor's config): the key
   * itself when the path ends in a map key, else its value.
   */
  locate(path: (string | number)[]): { line: number; col: number };
}

type Path = (string | number)[];

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  /** Skip checks that look at the machine (modules and commands exist). */
  offline?: boolean;
  /** Checks an llm pool's models against a price table (the worker's); without it, prices are checked at start. */
  checkModel?: ModelCheck;
}

/** Reads, interpolates and validates a topology file; every problem is reported with its position. */
export function loadTopology(path: string, options: LoadOptions = {}): LoadedTopology {
  const file = resolve(path);
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : String(error);
    throw new TopologyInvalidError([
      { file, line: 1, col: 1, path: '', message: `cannot read topology: ${reason}` },
    ]);
  }
  return parseTopology(source, file, options);
}

export function parseTopology(source: string, file: string, options: LoadOptions = {}): LoadedTopology {
  // A byte order mark is not content: without this, every column on line 1 is off by one.
  source = source.replace(/^\uFEFF/, '');
  const lineCounter = new LineCounter();
  const doc = parseDocument(source, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const issues: TopologyIssue[] = [];
  const at = (offset: number, path: Path, message: string) => {
    const { line, col } = lineCounter.linePos(offset);
    issues.push({ file, line, col, path: formatPath(path), message });
  };

  for (const error of doc.errors) {
    const message = error.message.split('\n')[0] ?? error.message;
    at(error.pos[0], [], message.replace(/ at line \d+, column \d+.*$/, ''));
  }
  if (issues.length > 0) throw new TopologyInvalidError(issues);

  const env = options.env ?? process.env;
  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value !== 'string' || !node.value.includes('${')) return;
      const result = interpolate(node.value, env);
      if ('error' in result) at(node.range?.[0] ?? 0, [], result.error);
      else node.value = result.value;
    },
  });
  if (issues.length > 0) throw new TopologyInvalidError(issues);

  let plain: unknown;
  try {
    // yaml refuses alias bombs (maxAliasCount) and dangling aliases here, by throwing.
    plain = doc.toJS() ?? {};
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const alias = /alias/i.test(message) ? firstAliasOffset(doc) : 0;
    at(alias, [], message.split('\n')[0] ?? message);
    throw new TopologyInvalidError(issues);
  }
  const binaries = binaryPaths(plain);
  for (const path of binaries) at(offsetOf(doc, path), path, 'binary values (!!binary) are not allowed');
  const underBinary = (path: readonly PropertyKey[]) =>
    binaries.some((b) => b.every((step, i) => path[i] === step));
  const dir = dirname(file);
  const report = (path: Path, message: string, key?: string) => at(offsetOf(doc, path, key), path, message);
  // Whatever the schema's verdict: a missing module is reported together with the schema's errors.
  const missingFiles = () => options.offline || reportMissingFiles(plain, dir, report);
  const parsed = topologySchema.safeParse(plain, { reportInput: true });
  if (!parsed.success) {
    // A binary value was reported once above; the schema would add a line per Buffer method.
    for (const issue of parsed.error.issues) if (!underBinary(issue.path)) reportZodIssue(doc, issue, at);
    missingFiles();
    throw new TopologyInvalidError(sortIssues(issues));
  }
  if (issues.length > 0) throw new TopologyInvalidError(sortIssues(issues));
  checkSemantics(parsed.data, report);
  missingFiles();
  checkModelPools(parsed.data, report, options.checkModel);
  if (issues.length > 0) throw new TopologyInvalidError(sortIssues(issues));
  const locate = (path: Path) => {
    const last = path.at(-1);
    return lineCounter.linePos(
      typeof last === 'string' ? offsetOf(doc, path.slice(0, -1), last) : offsetOf(doc, path),
    );
  };
  return { topology: parsed.data, file, dir, locate };
}

function reportZodIssue(
  doc: Document,
  issue: z.core.$ZodIssue,
  at: (offset: number, path: Path, message: string) => void,
): void {
  const path = issue.path as Path;
  if (issue.code === 'unrecognized_keys') {
    const known = keysAt(topologySchema, path);
    for (const key of issue.keys) {
      const hint = didYouMean(key, known);
      const message = `unknown key "${key}"${hint ? `: did you mean "${hint}"?` : known.length ? ` (expected one of: ${known.join(', ')})` : ''}`;
      at(offsetOf(doc, path, key), [...path, key], message);
    }
    return;
  }
  if (issue.code === 'invalid_key') {
    // A map key the schema refuses (a swarm name, a model id): say which, and why, at the key.
    const key = String(path.at(-1));
    const reason = issue.issues[0]?.message.replace(/^Invalid input: /, '') ?? issue.message;
    at(offsetOf(doc, path.slice(0, -1), key), path, `invalid key ${JSON.stringify(key)}: ${reason}`);
    return;
  }
  if (issue.code === 'invalid_type' && issue.input === undefined) {
    at(offsetOf(doc, path.slice(0, -1)), path, `missing required key "${String(path.at(-1))}"`);
    return;
  }
  if (issue.code === 'invalid_value' && 'values' in issue) {
    const got = JSON.stringify(issue.input);
    const hint =
      typeof issue.input === 'string' ? didYouMean(issue.input, issue.values.map(String)) : undefined;
    at(
      offsetOf(doc, path),
      path,
      `${got} is not one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}${hint ? `: did you mean "${hint}"?` : ''}`,
    );
    return;
  }
  at(offsetOf(doc, path), path, issue.message.replace(/^Invalid input: /, ''));
}

/** Offset of the node at `path` (or of `key` inside it), falling back to the nearest ancestor. */
function offsetOf(doc: Document, path: Path, key?: string): number {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = doc.getIn(path.slice(0, depth), true);
    if (depth === path.length && key !== undefined && isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && p.key.value === key);
      const range = pair && isScalar(pair.key) ? pair.key.range : undefined;
      if (range) return range[0];
    }
    const range = (node as { range?: [number, number, number] } | undefined)?.range;
    if (range) return range[0];
  }
  return 0;
}

function firstAliasOffset(doc: Document): number {
  let offset = 0;
  visit(doc, {
    Alias(_key, node) {
      offset = node.range?.[0] ?? 0;
      return visit.BREAK;
    },
  });
  return offset;
}

/** Where `!!binary` values (Uint8Arrays once converted) sit; the schema would list a Buffer's methods. */
function binaryPaths(value: unknown, path: Path = []): Path[] {
  if (value instanceof Uint8Array) return [path];
  if (Array.isArray(value)) return value.flatMap((v, i) => binaryPaths(v, [...path, i]));
  if (value !== null && typeof value === 'object')
    return Object.entries(value).flatMap(([k, v]) => binaryPaths(v, [...path, k]));
  return [];
}

function formatPath(path: Path): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

function sortIssues(issues: TopologyIssue[]): TopologyIssue[] {
  return [...issues].sort((a, b) => a.line - b.line || a.col - b.col);
}

type Report = (path: Path, message: string, key?: string) => void;

function checkSemantics(topology: Topology, report: Report): void {
  for (const [swarm, spec] of Object.entries(topology.swarms)) {
    const base: Path = ['swarms', swarm];
    duplicates(
      spec.shards.map((s) => s.id),
      (i, id) => report([...base, 'shards', i, 'id'], `duplicate shard id "${id}" in swarm ${swarm}`),
    );
    duplicates(
      spec.workers.map((w) => w.type),
      (i, type) =>
        report([...base, 'workers', i, 'type'], `duplicate worker pool for type "${type}" in swarm ${swarm}`),
    );
    duplicates(
      spec.actors.map((a) => a.name),
      (i, n) => report([...base, 'actors', i, 'name'], `duplicate actor name "${n}" in swarm ${swarm}`),
    );
    // Shards and actors share one namespace: their durable cursors are named after them.
    const shardIds = new Set(spec.shards.map((s) => s.id));
    spec.actors.forEach((actor, i) => {
      if (shardIds.has(actor.name))
        report(
          [...base, 'actors', i, 'name'],
          `actor "${actor.name}" has the name of a shard in swarm ${swarm}`,
        );
    });
    const owners = [
      ...spec.actors.map((a, i) => ({ name: a.name, subs: a.subscribe, path: [...base, 'actors', i] })),
      ...spec.shards.map((s, i) => ({ name: s.id, subs: s.subscribe, path: [...base, 'shards', i] })),
    ];
    for (const { name, subs, path } of owners) {
      duplicates(
        subs.flatMap((sub) => (sub.key ? [sub.key] : [])),
        (_, key) => report([...path, 'subscribe'], `two subscriptions of ${name} have the key "${key}"`),
      );
      subs.forEach((sub, i) => {
        const durable = durableName(swarm, name, subs.length, i, sub.key);
        if (durable.length > 64)
          report(
            [...path, 'subscribe', i],
            `"${durable}", this subscription's stored name, is over 64 characters: shorten the swarm, the name or the key`,
          );
      });
    }
    const subscriptions = (path: Path, subs: Topology['swarms'][string]['actors'][number]['subscribe']) =>
      subs.forEach((sub, j) => {
        sub.swarms.forEach((s, k) => {
          if (!/[*?]/.test(s) && !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(s))
            report([...path, j, 'swarms', k], `invalid swarm name "${s}"`);
        });
      });
    spec.actors.forEach((actor, i) => {
      subscriptions([...base, 'actors', i, 'subscribe'], actor.subscribe);
    });
    spec.shards.forEach((shard, i) => {
      subscriptions([...base, 'shards', i, 'subscribe'], shard.subscribe);
    });
    spec.workers.forEach((pool, i) => {
      const path: Path = [...base, 'workers', i, 'handler'];
      const kinds = HANDLER_KINDS.filter((k) => pool.handler[k] !== undefined);
      if (kinds.length !== 1) {
        report(
          path,
          kinds.length === 0
            ? `handler needs one of: ${HANDLER_KINDS.join(', ')}`
            : `handler has ${kinds.join(' and ')}: give exactly one`,
        );
        return;
      }
      if (pool.isolation === 'process' && kinds[0] !== 'module')
        report([...base, 'workers', i, 'isolation'], 'isolation: process applies to module handlers only');
      if (pool.handler.output !== undefined && kinds[0] !== 'command')
        report([...path, 'output'], 'output applies to command handlers only');
    });
  }
}

function duplicates(values: string[], onDuplicate: (index: number, value: string) => void): void {
  const seen = new Set<string>();
  values.forEach((value, i) => {
    if (seen.has(value)) onDuplicate(i, value);
    seen.add(value);
  });
}
