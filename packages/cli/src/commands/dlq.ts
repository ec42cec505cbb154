import type { Command } from '../command';
import { confirm } from '../confirm';
import { UsageError } from '../errors';
import { printable } from '../printable';
import { redisBus, withBus } from '../require-redis';
import { missingSwarmHint } from '../swarm-hint';
import { timeOfId } from '../time-span';

const ACTIONS = ['list', 'retry', 'purge'];

export const dlq: Command = {
  name: 'dlq',
  usage: 'swarm dlq <swarm> list | retry [<id>] | purge [--yes]',
  summary:
    'list dead letters, move one (or all) back onto their task streams, or purge them all (asks first on a terminal)',
  options: {
    yes: { type: 'boolean', short: 'y', description: 'purge without asking (needed without a terminal)' },
  },
  async run(input) {
    const [swarm, action, id, ...extra] = input.positionals;
    if (!swarm || !action || !ACTIONS.includes(action))
      throw new UsageError(`swarm dlq needs <swarm> and one of ${ACTIONS.join(', ')}`);
    if (extra.length > 0 || (id !== undefined && action !== 'retry'))
      throw new UsageError(
        `usage: ${dlq.usage} (unexpected: ${[...(action === 'retry' ? [] : [id]), ...extra].join(' ')})`,
      );
    if (input.values.yes && action !== 'purge') throw new UsageError('--yes goes with purge');
    return withBus(redisBus(input, 'dlq'), async (bus) => {
      const hint = await missingSwarmHint(bus, swarm);
      if (hint) input.out.note(hint);
      if (action === 'purge') {
        const count = (await bus.status(swarm)).deadLetters;
        if (count === 0) {
          input.out.note(`no dead letters in swarm ${swarm}`);
          input.out.result('', { swarm, purged: 0 });
          return 0;
        }
        if (!(await confirm(`purge ${count} dead letter(s) of swarm ${swarm}?`, Boolean(input.values.yes)))) {
          input.out.note('nothing purged');
          return 1;
        }
        const purged = await bus.purgeDeadLetters(swarm);
        input.out.result(`purged ${purged} dead letter(s) of swarm ${swarm}`, { swarm, purged });
        return 0;
      }
      const letters = await bus.deadLetters(swarm, { count: 10_000 });
      if (action === 'list') {
        if (letters.length === 0) input.out.note(`no dead letters in swarm ${swarm}`);
        for (const d of letters)
          input.out.result(
            `${timeOfId(d.id)}  ${d.type}  task ${printable(d.task?.id ?? '(malformed)')}  id ${d.id}\n  ${printable(d.reason)}${d.errors.map((e) => `\n    attempt ${e.attempt}: ${printable(e.message)}`).join('')}`,
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
