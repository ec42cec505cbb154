import { describe, expect, it } from 'vitest';
import { claudeFinding, readClaudeResult } from './claude-output';

describe("claude's JSON result as a finding", () => {
  it('reads only an object with "type": "result"', () => {
    expect(readClaudeResult('{"type":"result","result":"hi"}')).toEqual({ type: 'result', result: 'hi' });
    expect(readClaudeResult('{"type":"assistant"}')).toBeUndefined();
    expect(readClaudeResult('"result"')).toBeUndefined();
    expect(readClaudeResult('plain text')).toBeUndefined();
  });

  it('keeps the usage figures claude reported and leaves out the others', () => {
    expect(
      claudeFinding({
        type: 'result',
        subtype: 'success',
        result: 'the answer',
        total_cost_usd: 0.5,
        usage: { output_tokens: 3, input_tokens: 'many' },
      }),
    ).toEqual({ summary: 'the answer', data: { usage: { costUsd: 0.5, outputTokens: 3 } } });
    expect(claudeFinding({ type: 'result', result: 'bare' })).toEqual({ summary: 'bare' });
  });

  it('throws for a result without its text, and quotes the errors of an error subtype', () => {
    expect(() => claudeFinding({ type: 'result', subtype: 'success' })).toThrow(
      `claude's result has no "result" text: {"type":"result","subtype":"success"}`,
    );
    expect(() =>
      claudeFinding({
        type: 'result',
        subtype: 'error_during_execution',
        errors: ['tool failed', { code: 1 }],
      }),
    ).toThrow('claude reported an error (error_during_execution): tool failed; {"code":1}');
  });
});
