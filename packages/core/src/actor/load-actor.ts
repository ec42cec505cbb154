import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SwarmError } from '../errors';
import { type ActorDefinition, isActorDefinition } from './actor';

export class ActorLoadError extends SwarmError<'SWARM_ACTOR_LOAD'> {
  constructor(message: string, options?: { cause?: unknown }) {
    super('SWARM_ACTOR_LOAD', message, options);
  }
}

/**
 * Imports an actor module (path relative to baseDir) and returns its definition: the named
 * export, else `default`, else `actor`.
 */
export async function loadActorDefinition(
  module: string,
  baseDir: string,
  exportName?: string,
): Promise<ActorDefinition> {
  const path = resolve(baseDir, module);
  let namespace: Record<string, unknown>;
  try {
    namespace = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (error) {
    throw new ActorLoadError(
      `cannot load actor module ${path}: ${(error as Error)?.message ?? String(error)}`,
      {
        cause: error,
      },
    );
  }
  const names = exportName ? [exportName] : ['default', 'actor'];
  for (const name of names) {
    const candidate = namespace[name];
    if (isActorDefinition(candidate)) return candidate;
    if (exportName && candidate !== undefined)
      throw new ActorLoadError(
        `${module}: export "${exportName}" is not an actor (use defineActor({ kind, config, start }))`,
      );
  }
  throw new ActorLoadError(
    exportName
      ? `${module} has no export "${exportName}"`
      : `${module} exports no actor: export default defineActor({ kind, config, start })`,
  );
}
