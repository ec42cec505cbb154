import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../clock';
import { RepeatedErrors } from './repeated-errors';

function capture() {
  const lines: { level: number; msg: string; failures?: number }[] = [];
  const log = pino({ level: 'trace' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { log, lines };
}

describe('an error a loop keeps retrying', () => {
  it('is a warning the first time, then an error line at most once a minute with its count', async () => {
    const clock = new ManualClock();
    const { log, lines } = capture();
    const errors = new RepeatedErrors(log, clock, 'reading tasks');
    errors.failed(new Error('MOVED 8623 127.0.0.1:7002'));
    for (let i = 0; i < 100; i++) {
      await clock.advance(1_000);
      errors.failed(new Error('MOVED 8623 127.0.0.1:7002'));
    }
    const loud = lines.filter((l) => l.level === 50);
    expect(lines[0]).toMatchObject({ level: 40, msg: 'reading tasks failed; retrying' });
    // 100 s of failures: the second failure, then one a minute.
    expect(loud.map((l) => l.failures)).toEqual([2, 62]);
    expect(loud[0]?.msg).toMatch(/^reading tasks keeps failing \(2 times in 1 s\)/);
    errors.recovered();
    expect(lines.at(-1)).toMatchObject({ level: 40, msg: 'reading tasks works again', failures: 101 });
    errors.failed(new Error('again'));
    expect(lines.at(-1)).toMatchObject({ level: 40, msg: 'reading tasks failed; retrying' });
  });
});
