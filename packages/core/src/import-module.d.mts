/** Imports a module by its absolute path, TypeScript through tsx (registered on first use). */
export function importModuleFile(path: string): Promise<Record<string, unknown>>;
