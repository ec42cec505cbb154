import { defineActor, type Finding, MemoryBus, startActor, z } from '@swarm/core';
import { ActorTestKit } from '@swarm/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { until } from '../support/until';

/** An actor that records what it is handed, and republishes each as an echo. */
const recorder = defineActor({
  kind: 'recorder',
  config: z.strictObject({}),
  start(ctx) {
    const seen: Finding[] = [];
    ctx.findings$.subscribe((f) => {
      seen.push(f);
      void ctx.publish({ type: 'echo', summary: f.summary });
    });
    return { stop: () => void ctx.publish({ type: 'count', summary: String(seen.length) }) };
  },
});

describe('the actor host', () => {
  let kit: ActorTestKit | undefined;
  afterEach(async () => {
    await kit?.stop();
    kit = undefined;
  });

  it('survives a subscription whose predicate throws: it logs, backs off and retries, and the actor keeps running', async () => {
    let broken = true;
    kit = await ActorTestKit.start(recorder, {
      subscribe: [
        {
          swarms: ['src'],
          where: (f) => {
            if (broken && f.summary === 'bad') throw new Error('predicate bug');
            return true;
          },
        },
      ],
    });
    await kit.finding('src', { type: 'n', summary: 'first' });
    await kit.finding('src', { type: 'n', summary: 'bad' });
    await kit.finding('src', { type: 'n', summary: 'after' });
    await kit.advance(10_000);
    // Stuck before the bad finding, not past it, and not crashed.
    expect(kit.published.filter((f) => f.type === 'echo').map((f) => f.summary)).toEqual(['first']);
    broken = false; // the predicate is fixed (a redeploy, in real life)
    await kit.advance(60_000);
    const echoes = kit.published.filter((f) => f.type === 'echo').map((f) => f.summary);
    expect(echoes.slice(-2)).toEqual(['bad', 'after']);
    expect(echoes.filter((s) => s === 'after')).toHaveLength(1);
  });

  it('ends streams opened after stop at once, and runs the stop hook after the inputs end', async () => {
    kit = await ActorTestKit.start(recorder, { subscribe: [{ swarms: ['src'] }] });
    await kit.finding('src', { type: 'n', summary: 'one' });
    await kit.actor.stop();
    expect(kit.published.map((f) => `${f.type}:${f.summary}`)).toEqual(['echo:one', 'count:1']);
  });

  it('rejects with the error when start() throws', async () => {
    const failing = defineActor({
      kind: 'failing',
      config: z.strictObject({}),
      start(ctx) {
        ctx.findings$.subscribe();
        throw new Error('cannot start');
      },
    });
    await expect(ActorTestKit.start(failing, { subscribe: [{ swarms: ['src'] }] })).rejects.toThrow(
      'cannot start',
    );
  });

  it("keeps each keyed subscription's cursor when the list is reordered", async () => {
    const bus = new MemoryBus();
    // Runs the actor until it has echoed `expected` findings (a wait for a state, not a time).
    const run = async (subscribe: { key: string; swarms: string[] }[], expected: number) => {
      const echoes: string[] = [];
      const actor = await startActor(recorder, {
        bus,
        swarm: 'home',
        name: 'rec',
        subscribe,
        onOutput: (o) => {
          if (o.kind === 'finding' && o.finding.type === 'echo') echoes.push(o.finding.summary);
        },
      });
      await until(() => echoes.length >= expected, `${expected} echoes`);
      await actor.stop();
      return echoes;
    };
    await bus.publish('x', { type: 'n', summary: 'x1' });
    await bus.publish('y', { type: 'n', summary: 'y1' });
    expect(
      (
        await run(
          [
            { key: 'xs', swarms: ['x'] },
            { key: 'ys', swarms: ['y'] },
          ],
          2,
        )
      ).sort(),
    ).toEqual(['x1', 'y1']);
    await bus.publish('x', { type: 'n', summary: 'x2' });
    // Reordered: with positional names each would resume from the other's cursor.
    expect(
      (
        await run(
          [
            { key: 'ys', swarms: ['y'] },
            { key: 'xs', swarms: ['x'] },
          ],
          1,
        )
      ).sort(),
    ).toEqual(['x2']);
    expect(Object.keys(await bus.cursors('x'))).toEqual(['home.rec.xs']);
    await bus.close();
  });
});
