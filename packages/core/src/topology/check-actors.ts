import type { ActorDefinition } from '../actor/actor';
import { ActorConfigError, parseActorConfig } from '../actor/actor-host';
import { loadActorDefinition } from '../actor/load-actor';
import { SwarmError } from '../errors';
import type { Finding } from '../messages';
import { importUserModule } from '../module-import';
import { TopologyInvalidError, type TopologyIssue } from './errors';
import type { LoadedTopology } from './load';

type Path = (string | number)[];

const formatPath = (path: Path) =>
  path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');

/**
 * Loads every custom actor of a topology and validates its config block with the schema the
 * actor exports; every problem is reported at its place in the file. Returns the definitions,
 * keyed by `<swarm>/<actor name>`.
 */
export async function checkActors(loaded: LoadedTopology): Promise<Map<string, ActorDefinition>> {
  const issues: TopologyIssue[] = [];
  const report = (path: Path, message: string) =>
    issues.push({ file: loaded.file, ...loaded.locate(path), path: formatPath(path), message });
  const definitions = new Map<string, ActorDefinition>();
  for (const [swarm, spec] of Object.entries(loaded.topology.swarms)) {
    for (const [i, actor] of spec.actors.entries()) {
      const base: Path = ['swarms', swarm, 'actors', i];
      let definition: ActorDefinition;
      try {
        definition = await loadActorDefinition(actor.module, loaded.dir, actor.export);
      } catch (error) {
        report([...base, 'module'], error instanceof Error ? error.message : String(error));
        continue;
      }
      try {
        parseActorConfig(definition, actor.name, actor.config);
        definitions.set(`${swarm}/${actor.name}`, definition);
      } catch (error) {
        if (!(error instanceof ActorConfigError)) throw error;
        for (const issue of error.issues)
          report([...base, 'config', ...issue.path], `${definition.kind} config: ${issue.message}`);
      }
    }
  }
  if (issues.length > 0)
    throw new TopologyInvalidError(issues.sort((a, b) => a.line - b.line || a.col - b.col));
  return definitions;
}

export class PredicateLoadError extends SwarmError<'SWARM_PREDICATE_LOAD'> {
  constructor(message: string) {
    super('SWARM_PREDICATE_LOAD', message);
  }
}

/** Imports a subscription's `where` predicate: the named export, else default. */
export async function loadWhere(
  where: { module: string; export?: string | undefined },
  baseDir: string,
): Promise<(finding: Finding) => boolean> {
  const { path, namespace } = await importUserModule(
    where.module,
    baseDir,
    'predicate',
    (message) => new PredicateLoadError(message),
  );
  const name = where.export ?? 'default';
  const fn = namespace[name];
  if (typeof fn !== 'function')
    throw new PredicateLoadError(`${path}: export "${name}" is not a function (finding) => boolean`);
  return (finding) => Boolean((fn as (f: Finding) => unknown)(finding));
}
