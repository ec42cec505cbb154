import { SwarmError } from '../errors';
import { importUserModule } from '../module-import';
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
  const { namespace } = await importUserModule(
    module,
    baseDir,
    'actor',
    (message, cause) => new ActorLoadError(message, { cause }),
  );
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
