import { refuseClaim } from '../claim-refusal';
import type { Command } from '../command';
import { UsageError } from '../errors';
import { jsonFlag, listFlag } from '../flags';
import { redisBus, withBus } from '../require-redis';

export const report: Command = {
  name: 'report',
  usage: 'swarm report <claim> --summary <text> [--data <json>] [--tag <tag>]...',
  summary: 'complete a claimed task with its finding, exactly once (exit 4 if the claim no longer holds it)',
  options: {
    summary: { type: 'string', value: '<text>', description: "the finding's summary" },
    data: { type: 'string', value: '<json>', description: "the finding's data, as JSON", default: 'null' },
    tag: {
      type: 'string',
      multiple: true,
      value: '<tag>',
      description: 'a tag for the finding (repeatable)',
    },
  },
  async run(input) {
    const [handle] = input.positionals;
    if (!handle) throw new UsageError('swarm report needs the <claim> that swarm claim printed');
    const summary = input.values.summary;
    if (typeof summary !== 'string') throw new UsageError('swarm report needs --summary <text>');
    // Checked before anything is sent: a bad report leaves the claim held, to be reported again.
    const data = jsonFlag(input.values.data, '--data');
    const tags = listFlag(input.values.tag);
    return withBus(redisBus(input, 'report'), async (bus) => {
      const reported = await bus.report(handle, { summary, data, tags });
      if (reported.outcome !== 'completed') return refuseClaim(input.out, handle, reported);
      input.out.result(reported.findingId, {
        outcome: 'completed',
        claim: handle,
        findingId: reported.findingId,
      });
      return 0;
    });
  },
};
