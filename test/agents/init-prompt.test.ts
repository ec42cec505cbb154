import { execFile, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RedisBus } from '@swarm/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, SWARM_BIN } from '../support/cli';
import { useRedisServer } from '../support/redis-server';
import { uniqueSwarm } from '../worker/helpers';

const PROMPT = join(ROOT, 'examples/agents/worker-prompt.md');

/** The prompt's shell blocks, in order: claim, renew, report, fail. */
function promptCommands(): { claim: string; renew: string; report: string; fail: string } {
  const blocks = [...readFileSync(PROMPT, 'utf8').matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
  const find = (verb: string) => {
    const block = blocks.find((b) => b.includes(`swarm ${verb} `));
    if (!block) throw new Error(`the prompt has no \`swarm ${verb}\` block`);
    return block;
  };
  return { claim: find('claim'), renew: find('renew'), report: find('report'), fail: find('fail') };
}

/**
 * A stand-in for a shell-capable agent that follows the init prompt: it runs the prompt's own
 * commands verbatim in a shell, and does the "thinking" in between (finds the line of the context
 * the task asks about). `swarm` is on its PATH, as an installed CLI would be.
 */
describe('the init prompt turns a shell-capable agent into a worker', () => {
  const redis = useRedisServer();
  let bus: RedisBus;
  let path: string;
  const commands = promptCommands();

  beforeAll(async () => {
    bus = new RedisBus({ url: redis.url });
    const bin = mkdtempSync(join(tmpdir(), 'swarm-bin-'));
    writeFileSync(join(bin, 'swarm'), `#!/bin/sh\nexec "${process.execPath}" "${SWARM_BIN}" "$@"\n`);
    chmodSync(join(bin, 'swarm'), 0o755);
    path = `${bin}:${process.env.PATH}`;
  });
  afterAll(async () => {
    await bus.close();
  });

  /** Runs a block as another process at the same time as others; resolves with its stdout. */
  const shellAsync = (cwd: string, script: string, vars: Record<string, string>) =>
    new Promise<string>((resolve, reject) => {
      execFile(
        'sh',
        ['-c', script],
        { cwd, env: { ...process.env, PATH: path, SWARM_REDIS_URL: redis.url, ...vars } },
        (error, stdout, stderr) =>
          error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout),
      );
    });

  const shell = (cwd: string, script: string, vars: Record<string, string>) =>
    spawnSync('sh', ['-c', script], {
      cwd,
      encoding: 'utf8',
      env: { ...process.env, PATH: path, SWARM_REDIS_URL: redis.url, ...vars },
    });

  it('claims, reads the context, renews, reports, and the finding persists after it exits', async () => {
    const swarm = uniqueSwarm();
    const ref = await bus.context.put(swarm, 'Redis holds the tasks.\nThe shard forgets nothing.\n');
    const posted = await bus.post(swarm, 'ask', {
      description: 'What holds the tasks?',
      data: { keyword: 'tasks' },
      context: ref,
    });
    const cwd = mkdtempSync(join(tmpdir(), 'swarm-agent-'));
    const vars = { SWARM: swarm, TYPE: 'ask' };

    const claimed = shell(cwd, commands.claim, vars);
    expect(claimed.status, claimed.stderr).toBe(0);
    const work = claimed.stdout.trim();
    const claim = JSON.parse(readFileSync(join(work, 'claim.json'), 'utf8'));
    const context = readFileSync(join(work, 'context.txt'), 'utf8');
    // The agent's thinking: the line of the context the task is about.
    const answer = context.split('\n').find((line) => line.includes(claim.task.data.keyword)) ?? '';
    expect(shell(cwd, commands.renew, { ...vars, CLAIM: claim.claim }).status).toBe(0);
    const reported = shell(cwd, commands.report, {
      ...vars,
      CLAIM: claim.claim,
      SUMMARY: answer,
      DATA: JSON.stringify({ question: claim.task.description }),
    });
    expect(reported.status, reported.stderr).toBe(0);

    const [finding] = await bus.readFindings(swarm);
    expect(finding).toMatchObject({
      taskId: posted.id,
      summary: 'Redis holds the tasks.',
      data: { question: 'What holds the tasks?' },
      contextVersion: ref,
    });
    // As the prompt says: a second report exits 4 and writes nothing.
    const again = shell(cwd, commands.report, { ...vars, CLAIM: claim.claim, SUMMARY: 'again', DATA: '{}' });
    expect(again.status).toBe(4);
    expect(await bus.readFindings(swarm)).toHaveLength(1);
  });

  it('fails a task it cannot do, and the task goes back for another worker', async () => {
    const swarm = uniqueSwarm();
    await bus.post(swarm, 'ask', { description: 'impossible' });
    const cwd = mkdtempSync(join(tmpdir(), 'swarm-agent-'));
    const claimed = shell(cwd, commands.claim, { SWARM: swarm, TYPE: 'ask' });
    expect(claimed.status).toBe(0);
    const claim = JSON.parse(readFileSync(join(claimed.stdout.trim(), 'claim.json'), 'utf8'));
    const failed = shell(cwd, commands.fail, {
      CLAIM: claim.claim,
      REASON: 'the context says nothing about it',
    });
    expect(failed.status, failed.stderr).toBe(0);
    expect(failed.stdout).toContain('will be retried');
    expect((await bus.status(swarm)).types).toMatchObject([{ type: 'ask', delayed: 1, inFlight: 0 }]);
  });

  it('lets agents run side by side in one directory: each claims and reports its own task', async () => {
    const swarm = uniqueSwarm();
    const posted = await bus.postBatch(swarm, 'ask', [{ data: 'a' }, { data: 'b' }, { data: 'c' }]);
    const cwd = mkdtempSync(join(tmpdir(), 'swarm-agents-'));
    const agents = await Promise.all(
      posted.map(() =>
        shellAsync(cwd, commands.claim, { SWARM: swarm, TYPE: 'ask' }).then(async (claimed) => {
          const claim = JSON.parse(readFileSync(join(claimed.trim(), 'claim.json'), 'utf8'));
          const vars = { CLAIM: claim.claim, SUMMARY: `answered ${claim.task.data}`, DATA: '{}' };
          return (await shellAsync(cwd, commands.report, vars)).trim();
        }),
      ),
    );
    expect(agents).toHaveLength(3);
    const summaries = (await bus.readFindings(swarm)).map((f) => f.summary).sort();
    expect(summaries).toEqual(['answered a', 'answered b', 'answered c']);
  });

  it('exits 3 when there is no task, as the prompt tells the agent', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'swarm-agent-'));
    const claimed = shell(cwd, commands.claim.replace('--wait 30', '--wait 0'), {
      SWARM: uniqueSwarm(),
      TYPE: 'ask',
    });
    expect(claimed.status).toBe(3);
  });
});
