/** Kept apart from the zod schema so code that needs only this list does not load zod. */
export const HANDLER_KINDS = ['module', 'command', 'builtin', 'llm'] as const;
