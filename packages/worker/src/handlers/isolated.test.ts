import { describe, expect, it } from 'vitest';
import { childExecArgv } from './isolated';

describe('childExecArgv: an isolated child starts with the parent loaders, not its one-off flags', () => {
  it('keeps loaders and options', () => {
    const argv = [
      '--import',
      'tsx',
      '--require',
      '/x/preflight.cjs',
      '--max-old-space-size=512',
      '--conditions',
      'dev',
    ];
    expect(childExecArgv(argv)).toEqual(argv);
  });

  it('drops what would make the child run something else or clash with the parent', () => {
    expect(
      childExecArgv([
        '--import',
        'tsx',
        '-e',
        'console.log(1)',
        '--eval=1',
        '-p',
        '2',
        '--input-type=module',
        '--inspect=9229',
        '--inspect-brk',
        '--watch',
        '--test',
      ]),
    ).toEqual(['--import', 'tsx']);
  });
});
