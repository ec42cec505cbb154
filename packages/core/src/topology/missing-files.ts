import { existsSync, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';

type Path = (string | number)[];

/**
 * Reports modules and command programs a topology names that are not on this machine. It walks
 * the file's plain data and skips whatever has the wrong shape, so it runs even when the schema
 * refused the file: a missing module is reported together with the schema's errors, not only
 * once they are fixed.
 */
export function reportMissingFiles(
  plain: unknown,
  dir: string,
  report: (path: Path, message: string) => void,
): void {
  const swarms = field(plain, 'swarms');
  if (!isObject(swarms)) return;
  const moduleExists = (path: Path, holder: unknown) => {
    const module = field(holder, 'module');
    if (typeof module === 'string' && module !== '' && !isFile(resolve(dir, module)))
      report([...path, 'module'], `module not found: ${resolve(dir, module)}`);
  };
  const subscriptions = (path: Path, owner: unknown) =>
    each(field(owner, 'subscribe'), (sub, j) =>
      moduleExists([...path, 'subscribe', j, 'where'], field(sub, 'where')),
    );
  for (const [swarm, spec] of Object.entries(swarms)) {
    const base: Path = ['swarms', swarm];
    each(field(spec, 'actors'), (actor, i) => {
      moduleExists([...base, 'actors', i], actor);
      subscriptions([...base, 'actors', i], actor);
    });
    each(field(spec, 'shards'), (shard, i) => subscriptions([...base, 'shards', i], shard));
    each(field(spec, 'workers'), (pool, i) => {
      const handler = field(pool, 'handler');
      const path: Path = [...base, 'workers', i, 'handler'];
      moduleExists(path, handler);
      const command = field(handler, 'command');
      const program = Array.isArray(command) ? command[0] : undefined;
      if (typeof program === 'string' && program !== '' && !findProgram(program, dir))
        report([...path, 'command'], `command not found: ${program}`);
    });
  }
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

const field = (value: unknown, key: string): unknown => (isObject(value) ? value[key] : undefined);

function each(list: unknown, visit: (item: unknown, index: number) => void): void {
  if (Array.isArray(list)) list.forEach(visit);
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Where a command's program resolves: a path (relative to the topology) or a name on PATH. */
export function findProgram(program: string, dir: string): string | undefined {
  if (program.includes('/')) {
    const target = isAbsolute(program) ? program : resolve(dir, program);
    return isFile(target) ? target : undefined;
  }
  for (const entry of (process.env.PATH ?? '').split(delimiter)) {
    if (!entry) continue;
    const candidate = join(entry, program);
    if (existsSync(candidate) && isFile(candidate)) return candidate;
  }
  return undefined;
}
