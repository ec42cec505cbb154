import { createInterface } from 'node:readline/promises';
import { UsageError } from './errors';

/**
 * Asks before something that cannot be undone. With `--yes` it does not ask; without a terminal
 * to ask on (a script, a pipe) it refuses rather than guess: the caller must say --yes.
 */
export async function confirm(question: string, yes: boolean, flag = '--yes'): Promise<boolean> {
  if (yes) return true;
  if (!process.stdin.isTTY)
    throw new UsageError(
      `${question.replace(/\?$/, '')}: not asked without a terminal; pass ${flag} to confirm`,
    );
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`${question} [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}
