import { assertName } from '@swarm/core';
import type { Command } from '../command';
import { UsageError } from '../errors';
import { redisBus, withBus } from '../require-redis';

export const unsubscribe: Command = {
  name: 'unsubscribe',
  usage: 'swarm unsubscribe <swarm> <subscriber>',
  summary:
    "forget a durable subscriber of a swarm's findings (its cursor): stop it first; a subscriber of that name then starts afresh",
  options: {},
  async run(input) {
    const [swarm, subscriber, ...extra] = input.positionals;
    if (!swarm || !subscriber || extra.length > 0) throw new UsageError(`usage: ${unsubscribe.usage}`);
    assertName('swarm', swarm);
    assertName('consumer', subscriber);
    return withBus(redisBus(input, 'unsubscribe'), async (bus) => {
      const cursors = await bus.cursors(swarm);
      if (!(await bus.forgetSubscriber(swarm, subscriber))) {
        const known = Object.keys(cursors);
        throw new UsageError(
          `swarm ${swarm} has no durable subscriber ${subscriber} (its subscribers: ${known.length > 0 ? known.join(', ') : 'none'})`,
        );
      }
      input.out.result(
        `forgot subscriber ${subscriber} of swarm ${swarm} (it was at ${cursors[subscriber]})`,
        {
          swarm,
          subscriber,
          cursor: cursors[subscriber],
        },
      );
      return 0;
    });
  },
};
