import type { Command } from '../command';
import { UsageError } from '../errors';
import { redisBus, withBus } from '../require-redis';

export const dlq: Command = {
  name: 'dlq',
  usage: 'swarm dlq <swarm> list | retry [<id>]',
  summary: 'list dead letters, or move one (or all) back onto their task streams',
  options: {},
  async run(input) {
    const [swarm, action, id] = input.positionals;
    if (!swarm || (action !== 'list' && action !== 'retry'))
      throw new UsageError('swarm dlq needs <swarm> and list or retry');
    return withBus(redisBus(input, 'dlq'), async (bus) => {
      const letters = await bus.deadLetters(swarm, { count: 10_000 });
      if (action === 'list') {
        if (letters.length === 0) input.out.note(`no dead letters in swarm ${swarm}`);
        for (const d of letters)
          input.out.result(
            `${d.id}  ${d.type}  task ${d.task?.id ?? '(malformed)'}\n  ${d.reason}${d.errors.map((e) => `\n    attempt ${e.attempt}: ${e.message}`).join('')}`,
            { ...d },
          );
        return 0;
      }
      const targets = id ? [id] : letters.map((d) => d.id);
      if (id && !letters.some((d) => d.id === id))
        throw new UsageError(`no dead letter ${id} in swarm ${swarm}`);
      for (const target of targets) {
        const task = await bus.retryDeadLetter(swarm, target);
        input.out.result(`retried ${target} as task ${task.id} (${task.type})`, {
          deadLetter: target,
          taskId: task.id,
          type: task.type,
        });
      }
      return 0;
    });
  },
};
