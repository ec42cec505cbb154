import { providerSchema, type Topology } from './schema';

type Path = (string | number)[];
type Report = (path: Path, message: string, key?: string) => void;

/**
 * What the worker's price table knows of a model: a problem to report (no price; no context
 * window when `window` is asked for), or undefined. Given by the CLI: core does not carry the table.
 */
export type ModelCheck = (
  modelId: string,
  needs: { window: boolean },
  prices: Topology['prices'],
) => string | undefined;

/** Vendors a topology may name without a `providers:` entry (an OpenAI-compatible one needs a baseURL). */
const KNOWN_PROVIDERS: readonly string[] = providerSchema.shape.kind
  .unwrap()
  .options.filter((kind) => kind !== 'openai-compatible');

/**
 * The llm pools' models and budgets (issue #10): every model's provider is known or configured,
 * every model has a price (a budget cannot be kept without one), and only llm pools have budgets.
 */
export function checkModelPools(topology: Topology, report: Report, checkModel?: ModelCheck): void {
  for (const [name, provider] of Object.entries(topology.providers)) {
    const path: Path = ['providers', name];
    const kind = provider.kind ?? (KNOWN_PROVIDERS.includes(name) ? name : undefined);
    if (!kind)
      report(
        path,
        `provider "${name}" needs a kind: one of ${providerSchema.shape.kind.unwrap().options.join(', ')}`,
      );
    else if (kind === 'openai-compatible' && !provider.baseURL)
      report(path, `provider "${name}" is openai-compatible: give its baseURL`);
  }
  for (const [swarm, spec] of Object.entries(topology.swarms))
    spec.workers.forEach((pool, i) => {
      const base: Path = ['swarms', swarm, 'workers', i];
      const llm = pool.handler.llm;
      if (!llm) {
        if (pool.budget) report([...base, 'budget'], 'budget applies to llm handlers only');
        return;
      }
      const models: [string, Path][] = [
        [llm.model, [...base, 'handler', 'llm', 'model']],
        ...llm.fallback.map((m, j): [string, Path] => [m, [...base, 'handler', 'llm', 'fallback', j]]),
      ];
      for (const [model, path] of models) {
        const provider = model.slice(0, model.indexOf(':'));
        if (!Object.hasOwn(topology.providers, provider) && !KNOWN_PROVIDERS.includes(provider)) {
          report(
            path,
            `unknown provider "${provider}": use ${KNOWN_PROVIDERS.join(', ')}, or add it under providers: (kind: openai-compatible and a baseURL for your own server)`,
          );
          continue;
        }
        const problem = checkModel?.(model, { window: llm.route === 'cheapest' }, topology.prices);
        if (problem) report(path, problem);
      }
      if (llm.hedge && models.length < 2)
        report(
          [...base, 'handler', 'llm', 'hedge'],
          'hedge needs a second model to ask: add one under fallback',
        );
    });
}
