import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Handler } from '../types';
import { pickExport } from './pick-export.mjs';

export interface ModuleHandlerSpec {
  module: string;
  export?: string | undefined;
}

/**
 * Imports a handler module (path relative to baseDir) and picks its handler: the named export,
 * else `default`, else `handler`. The module is imported once per pool; each task is a fresh call.
 */
export async function loadModuleHandler(spec: ModuleHandlerSpec, baseDir: string): Promise<Handler> {
  const path = resolve(baseDir, spec.module);
  let namespace: Record<string, unknown>;
  try {
    namespace = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (error) {
    throw new Error(`cannot load handler module ${path}: ${(error as Error)?.message ?? String(error)}`, {
      cause: error,
    });
  }
  return pickExport(namespace, path, spec.export) as Handler;
}
