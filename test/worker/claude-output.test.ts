import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useMemoryPools } from './helpers';

/** The stand-in for `claude -p … --output-format json` (test/fixtures/bin/claude). */
const CLAUDE = join(import.meta.dirname, '../fixtures/bin/claude');
const claudeJson = [CLAUDE, '-p', 'Answer the task given as JSON on stdin.', '--output-format', 'json'];

describe('a command handler with output: claude', () => {
  const rig = useMemoryPools();

  it("makes claude's result the summary, and its cost, tokens, durations and turns data.usage", async () => {
    const { finding, error } = await rig.runTask(
      { command: claudeJson, output: 'claude' },
      { description: 'what is a shard?' },
    );
    expect(error).toBeUndefined();
    expect(finding?.summary).toBe('no context line for: what is a shard?');
    expect(finding?.data).toEqual({
      usage: {
        costUsd: 0.0123,
        inputTokens: 12,
        outputTokens: 87,
        cacheReadInputTokens: 1024,
        cacheCreationInputTokens: 0,
        durationMs: 2841,
        durationApiMs: 2650,
        numTurns: 1,
      },
      sessionId: `stand-in-${finding?.taskId}`,
    });
  });

  it('fails the attempt with the message of an is_error result, though claude exits 1', async () => {
    const { finding, error } = await rig.runTask(
      { command: claudeJson, output: 'claude' },
      { data: { standIn: 'api-error' } },
    );
    expect(finding).toBeUndefined();
    expect(error).toBe(
      'claude reported an error: API Error: 529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}',
    );
  });

  it('fails the attempt with the subtype of a result that stopped early (error_max_turns)', async () => {
    const { error } = await rig.runTask(
      { command: claudeJson, output: 'claude' },
      { data: { standIn: 'max-turns' } },
    );
    expect(error).toBe('claude reported an error (error_max_turns): it gave no message');
  });

  it("fails the attempt when the command does not print claude's JSON (no --output-format json)", async () => {
    const { error } = await rig.runTask({ command: [CLAUDE, '-p', 'Answer.'], output: 'claude' });
    expect(error).toBe(
      'output: claude expects the one JSON object with "type": "result" that claude -p … --output-format json prints; the command printed "no context line for: Answer."',
    );
  });

  it("does not guess from the shape: without output: claude, claude's JSON is plain text", async () => {
    const { finding } = await rig.runTask({ command: claudeJson });
    expect(finding?.summary).toMatch(/^\{"type":"result","subtype":"success"/);
    expect(finding?.data).toBeNull();
  });
});
