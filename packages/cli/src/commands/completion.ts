import type { Command } from '../command';
import { completionScript, SHELLS, type Shell } from '../completion-scripts';
import { UsageError } from '../errors';

export const completion: Command = {
  name: 'completion',
  usage: 'swarm completion bash|zsh|fish',
  summary:
    'print a shell completion script for verbs, options and their values (bash: source <(swarm completion bash))',
  options: {},
  async run(input) {
    const [shell, ...extra] = input.positionals;
    if (!shell || extra.length > 0 || !(SHELLS as readonly string[]).includes(shell))
      throw new UsageError(
        `swarm completion needs one of ${SHELLS.join(', ')}${shell ? `, got ${shell}` : ''}`,
      );
    if (!input.catalog) throw new Error('swarm completion needs the list of commands');
    process.stdout.write(completionScript(shell as Shell, await input.catalog()));
    return 0;
  },
};
