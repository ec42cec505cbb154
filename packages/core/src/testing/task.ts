import type { Task } from '../messages';

/** A task as a worker receives it, for testing a handler without a bus; override what matters. */
export function aTask(overrides: Partial<Task> = {}): Task {
  return {
    id: 't1',
    swarm: 's',
    type: 'work',
    description: '',
    data: null,
    parent: undefined,
    context: undefined,
    attempt: 1,
    createdAt: 0,
    idempotencyKey: undefined,
    errors: [],
    ...overrides,
  };
}
