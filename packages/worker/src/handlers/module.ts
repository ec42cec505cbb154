import { importUserModule } from '@swarm/core';
import type { Handler } from '../types';
import { pickExport } from './pick-export.mjs';

export interface ModuleHandlerSpec {
  module: string;
  export?: string | undefined;
}

/**
 * Imports a handler module (path relative to baseDir; `.ts` through tsx) and picks its handler:
 * the named export, else `default`, else `handler`. The module is imported once per pool; each
 * task is a fresh call.
 */
export async function loadModuleHandler(spec: ModuleHandlerSpec, baseDir: string): Promise<Handler> {
  const { path, namespace } = await importUserModule(
    spec.module,
    baseDir,
    'handler',
    (message, cause) => new Error(message, { cause }),
  );
  return pickExport(namespace, path, spec.export) as Handler;
}
