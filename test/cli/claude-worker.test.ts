import { delimiter, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { jsonLines, ROOT, swarmCli } from '../support/cli';

/**
 * `claude -p … --output-format json` as a command worker (docs/AGENTS.md), run by the real
 * `swarm run` against the stand-in in test/fixtures/bin, first on PATH: no model is called.
 */
const env = { PATH: `${join(ROOT, 'test/fixtures/bin')}${delimiter}${process.env.PATH}` };

describe('claude -p as a command worker', () => {
  it("runs config/examples/claude-worker.yaml: claude's answer is the summary, its cost and tokens data.usage", async () => {
    const result = await swarmCli(
      ['run', join(ROOT, 'config/examples/claude-worker.yaml'), '--once', '--json'],
      {
        env,
      },
    );
    expect(result.code, result.stderr).toBe(0);
    const findings = jsonLines(result.stdout);
    // The stand-in answers with the line of the context file its prompt names: the task reached it
    // on stdin, and sh put this task's SWARM_CONTEXT_FILE into the prompt.
    expect(findings.map((f) => f.summary).sort()).toEqual([
      '- **Poison is parked**: after `maxAttempts` (crashes count) a task moves to the dead-letter stream',
      '- a persistent **shard** holds a large context and posts **tasks**;',
    ]);
    for (const f of findings)
      expect(f.data).toEqual({
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
        sessionId: `stand-in-${f.taskId}`,
      });
  });

  it('fails the attempt of a result claude reports as an error: run --once exits 1 and prints why', async () => {
    const result = await swarmCli(
      ['run', join(ROOT, 'test/cli/fixtures/claude-errors.yaml'), '--once', '--json'],
      {
        env,
      },
    );
    expect(result.code, result.stderr).toBe(1);
    const records = jsonLines(result.stdout);
    expect(records.filter((r) => 'summary' in r).map((r) => r.summary)).toEqual([
      'no context line for: answer me',
    ]);
    expect(
      records
        .filter((r) => 'deadLetter' in r)
        .map((r) => r.error)
        .sort(),
    ).toEqual([
      'claude reported an error (error_max_turns): it gave no message',
      'claude reported an error: API Error: 529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}',
    ]);
  });
});
