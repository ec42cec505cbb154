import { refuseClaim } from '../claim-refusal';
import type { Command } from '../command';
import { UsageError } from '../errors';
import { positiveInt } from '../flags';
import { redisBus, withBus } from '../require-redis';

export const renew: Command = {
  name: 'renew',
  usage: 'swarm renew <claim> [--lease-ms <ms>]',
  summary: "renew a claim's lease, to --lease-ms when given (exit 4 if the lease was lost)",
  options: {
    'lease-ms': { type: 'string', value: '<ms>', description: 'the new lease', default: "the claim's lease" },
  },
  async run(input) {
    const [handle] = input.positionals;
    if (!handle) throw new UsageError('swarm renew needs the <claim> that swarm claim printed');
    const given = input.values['lease-ms'];
    const leaseMs = given === undefined ? undefined : positiveInt(given, 0, '--lease-ms');
    return withBus(redisBus(input, 'renew'), async (bus) => {
      const renewed = await bus.renewClaim(handle, leaseMs === undefined ? {} : { leaseMs });
      if (renewed.outcome !== 'renewed') return refuseClaim(input.out, handle, renewed);
      input.out.result(`renewed ${handle}`, {
        outcome: 'renewed',
        claim: handle,
        leaseMs: renewed.leaseMs,
      });
      return 0;
    });
  },
};
