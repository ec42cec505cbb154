import { type BudgetSpec, type Bus, HANDLER_KINDS, type HandlerSpec, type WorkerPoolSpec } from '@swarm/core';
import { builtinHandler } from './handlers/builtins';
import { commandHandler } from './handlers/command';
import { isolatedHandler } from './handlers/isolated';
import { loadModuleHandler } from './handlers/module';
import type { ModelSettings } from './llm/llm-handler';
import type { Handler } from './types';

/** What an llm handler needs beyond its spec: where it runs, and the topology's model settings. */
export interface LlmPoolContext {
  swarm: string;
  pool: { type: string; timeoutMs: number; budget?: BudgetSpec | undefined };
  models?: ModelSettings;
}

/**
 * The handler a spec names: exactly one of module, command, builtin or llm. Module paths and
 * command paths are relative to baseDir. Throws a clear error for a spec that cannot run.
 */
export async function resolveHandler(
  spec: HandlerSpec,
  baseDir: string,
  bus: Bus,
  pool?: LlmPoolContext,
): Promise<Handler> {
  const kind = handlerKind(spec);
  if (kind === 'llm') {
    if (!pool) throw new Error('an llm handler runs in a worker pool: it needs its swarm and pool');
    // Loaded on demand: a worker with a module handler does not load the AI SDK.
    const { llmHandler } = await import('./llm/llm-handler');
    return llmHandler({ bus, ...pool, llm: spec.llm as NonNullable<HandlerSpec['llm']> });
  }
  if (kind === 'module')
    return loadModuleHandler({ module: spec.module as string, export: spec.export }, baseDir);
  if (kind === 'command')
    return commandHandler(
      {
        command: spec.command as string[],
        passDataAsArgs: spec.passDataAsArgs,
        env: spec.env,
        output: spec.output,
      },
      baseDir,
    );
  return builtinHandler(spec.builtin as string, bus);
}

/** A pool's handler: in-process, or one fresh child process per task with `isolation: process`. */
export async function resolvePoolHandler(
  spec: Pick<WorkerPoolSpec, 'type' | 'handler' | 'isolation' | 'timeoutMs' | 'budget'>,
  baseDir: string,
  bus: Bus,
  where: { swarm: string; models?: ModelSettings | undefined },
): Promise<Handler> {
  if ((spec.isolation ?? 'none') === 'none')
    return resolveHandler(spec.handler, baseDir, bus, {
      swarm: where.swarm,
      pool: { type: spec.type, timeoutMs: spec.timeoutMs, budget: spec.budget },
      ...(where.models ? { models: where.models } : {}),
    });
  if (spec.isolation !== 'process')
    throw new Error(`unknown isolation "${spec.isolation}": use none or process`);
  if (handlerKind(spec.handler) !== 'module')
    throw new Error('isolation: process applies to module handlers only');
  return isolatedHandler({ module: spec.handler.module as string, export: spec.handler.export }, baseDir);
}

function handlerKind(spec: HandlerSpec): (typeof HANDLER_KINDS)[number] {
  if (spec === null || typeof spec !== 'object') throw new Error('handler must be an object');
  const kinds = HANDLER_KINDS.filter((k) => spec[k] !== undefined);
  if (kinds.length !== 1)
    throw new Error(
      kinds.length === 0
        ? `handler needs one of: ${HANDLER_KINDS.join(', ')}`
        : `handler has ${kinds.join(' and ')}: give exactly one`,
    );
  return kinds[0] as (typeof HANDLER_KINDS)[number];
}
