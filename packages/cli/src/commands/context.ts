import { readFile } from 'node:fs/promises';
import type { Command } from '../command';
import { UsageError } from '../errors';
import { redisBus, withBus } from '../require-redis';

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export const context: Command = {
  name: 'context',
  usage: 'swarm context put <swarm> [<file>|-] | swarm context get <swarm> <ref>',
  summary: 'store a context (prints its reference) or print one',
  options: {},
  async run(input) {
    const [action, swarm, arg] = input.positionals;
    if ((action !== 'put' && action !== 'get') || !swarm)
      throw new UsageError('swarm context needs put or get, then <swarm>');
    if (action === 'get' && !arg) throw new UsageError('swarm context get needs a reference');
    // No file, and stdin is a person's terminal: waiting silently looks like a hang.
    if (action === 'put' && !arg && process.stdin.isTTY)
      throw new UsageError(
        'swarm context put needs the context: name a file (swarm context put <swarm> notes.md) or pipe it in (… | swarm context put <swarm> -)',
      );
    if (action === 'put' && arg === '-' && process.stdin.isTTY)
      input.out.note('reading the context from the terminal: end it with Ctrl-D');
    return withBus(redisBus(input, 'context'), async (bus) => {
      if (action === 'put') {
        const content =
          !arg || arg === '-'
            ? await readStdin()
            : await readFile(arg).catch((error: NodeJS.ErrnoException) => {
                throw new UsageError(
                  `cannot read ${arg}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`,
                );
              });
        const ref = await bus.context.put(swarm, content);
        input.out.result(ref, { swarm, ref, bytes: content.length });
        return 0;
      }
      const content = await bus.context.get(swarm, arg as string);
      if (input.out.json)
        input.out.result('', { swarm, ref: arg, bytes: content.length, content: content.toString() });
      else process.stdout.write(content);
      return 0;
    });
  },
};
