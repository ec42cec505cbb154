import { RedisBus } from '@swarm/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useRedisServer } from '../support/redis-server';
import { isAlive, until } from '../worker/helpers';
import { call, callError, connectHttp, connectStdio, type HttpSwarm, startHttp } from './support';

interface Claimed {
  outcome: string;
  claim: string;
  task: { id: string };
}

describe('swarm mcp survives its clients and its Redis', () => {
  const redis = useRedisServer();
  let bus: RedisBus;
  let http: HttpSwarm;

  beforeAll(async () => {
    bus = new RedisBus({ url: redis.url });
    http = await startHttp(['--swarm', 'tough'], { SWARM_REDIS_URL: redis.url, SWARM_LOG_LEVEL: 'warn' });
  });
  afterAll(async () => {
    await http?.stop();
    await bus?.close();
  });

  /** Whether some connection is blocked reading new tasks: a claim is waiting. */
  const claimWaiting = async () =>
    ((await (await bus.redis()).client('LIST')) as string).includes('cmd=xreadgroup');

  it('over HTTP: a client that goes away mid-claim leaves the server serving, and the task to the next client', async () => {
    const leaving = await connectHttp(http.url);
    const abandoned = leaving
      .callTool({ name: 'claim_task', arguments: { swarm: 'tough', type: 'gone', waitMs: 45_000 } })
      .catch((error: unknown) => error);
    await until(claimWaiting, 'the claim to start waiting');
    await leaving.close();
    expect(await abandoned).toBeInstanceOf(Error);
    await until(() => http.stderr().includes('claim_task stopped waiting'), 'the abandoned claim to stop');

    const posted = await bus.post('tough', 'gone', { description: 'for whoever is still here' });
    const staying = await connectHttp(http.url);
    try {
      const claimed = await call<Claimed>(staying, 'claim_task', {
        swarm: 'tough',
        type: 'gone',
        waitMs: 10_000,
      });
      expect(claimed).toMatchObject({ outcome: 'claimed', task: { id: posted.id, attempt: 1 } });
      await call(staying, 'report_finding', { claim: claimed.claim, summary: 'done' });
    } finally {
      await staying.close();
    }
    expect(http.child.exitCode).toBeNull();
  });

  it('over stdio: a client that goes away mid-claim ends its server process, and a new one serves', async () => {
    const env = { SWARM_REDIS_URL: redis.url, SWARM_LOG_LEVEL: 'warn' };
    const leaving = await connectStdio(['--swarm', 'tough'], env);
    const pid = leaving.transport.pid as number;
    const abandoned = leaving.client
      .callTool({ name: 'claim_task', arguments: { swarm: 'tough', type: 'quiet', waitMs: 45_000 } })
      .catch((error: unknown) => error);
    await until(claimWaiting, 'the claim to start waiting');
    await leaving.close();
    expect(await abandoned).toBeInstanceOf(Error);
    await until(() => !isAlive(pid), 'the stdio server to exit');
    expect(leaving.stderr()).toContain('claim_task stopped waiting');

    const posted = await bus.post('tough', 'quiet', {});
    const next = await connectStdio(['--swarm', 'tough'], env);
    try {
      expect(
        await call(next.client, 'claim_task', { swarm: 'tough', type: 'quiet', waitMs: 10_000 }),
      ).toMatchObject({
        outcome: 'claimed',
        task: { id: posted.id, attempt: 1 },
      });
    } finally {
      await next.close();
    }
  });

  it('answers with a clean tool error while Redis is down, and works again once it is back', async () => {
    const mcp = await connectStdio(['--swarm', 'tough'], { SWARM_REDIS_URL: redis.url });
    try {
      await call(mcp.client, 'post_task', { swarm: 'tough', type: 'restart', description: 'before' });
      await redis.server.kill();
      const down = await callError(mcp.client, 'swarm_status', { swarm: 'tough' });
      expect(down).toContain('did not come back');
      expect(down).toContain('nothing was done');
      await redis.server.start();
      // The bus reconnects on its own; the first calls after the restart may still find it reconnecting.
      let status: { swarms: { types: { type: string }[] }[] } | undefined;
      await until(
        async () => {
          const result = await mcp.client.callTool({ name: 'swarm_status', arguments: { swarm: 'tough' } });
          if (!result.isError) status = result.structuredContent as typeof status;
          return !result.isError;
        },
        'a tool call to succeed after the restart',
        30_000,
      );
      expect(status?.swarms).toHaveLength(1);
      const posted = await call<{ id: string }>(mcp.client, 'post_task', { swarm: 'tough', type: 'restart' });
      const claimed = await call<Claimed>(mcp.client, 'claim_task', {
        swarm: 'tough',
        type: 'restart',
        waitMs: 10_000,
      });
      expect(claimed.task.id).toBe(posted.id);
      expect(mcp.transport.pid !== null && isAlive(mcp.transport.pid)).toBe(true);
    } finally {
      await mcp.close();
    }
  }, 60_000);
});
