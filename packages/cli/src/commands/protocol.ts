import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { protocolScripts } from '@swarm/core';
import type { Command } from '../command';
import { UsageError } from '../errors';

/**
 * Hands a client in another language what it cannot rebuild from docs/PROTOCOL.md's prose: the
 * Lua scripts exactly as swarm loads them, includes expanded, so a `SCRIPT LOAD` of each file
 * yields the SHA1 swarm itself calls.
 */
export const protocol: Command = {
  name: 'protocol',
  usage: 'swarm protocol scripts --dir <dir>',
  summary: 'write the Lua scripts of the wire protocol, as swarm loads them, for workers in other languages',
  options: { dir: { type: 'string', value: '<dir>', description: 'where to write the scripts' } },
  async run(input) {
    const [action] = input.positionals;
    if (action !== 'scripts')
      throw new UsageError('swarm protocol needs scripts (swarm protocol scripts --dir <dir>)');
    const dir = input.values.dir;
    if (typeof dir !== 'string' || dir.length === 0)
      throw new UsageError('swarm protocol scripts needs --dir <dir>');
    await mkdir(dir, { recursive: true }).catch((error: NodeJS.ErrnoException) => {
      throw new UsageError(`cannot create --dir ${dir}: ${error.code ?? error.message}`);
    });
    for (const script of protocolScripts()) {
      const file = join(dir, script.file);
      await writeFile(file, script.lua);
      const sha1 = createHash('sha1').update(script.lua).digest('hex');
      input.out.result(`${file}  ${sha1}`, {
        script: script.file.replace(/\.lua$/, ''),
        file,
        sha1,
        keys: script.numberOfKeys,
      });
    }
    return 0;
  },
};
