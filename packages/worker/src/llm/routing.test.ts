import { describe, expect, it } from 'vitest';
import { NoModelFitsError } from './models';
import { routeCandidates, StickyRoutes } from './routing';

const CHEAP = 'openai:gpt-4.1-mini';
const DEAR = 'anthropic:claude-sonnet-4-5';

describe('routeCandidates', () => {
  const request = { promptTokens: 1_000, maxOutputTokens: 500 };

  it('ordered: the pool’s model, then its fallbacks, each with its worst case', () => {
    const candidates = routeCandidates({ models: [DEAR, CHEAP], route: 'ordered', ...request });
    expect(candidates.map((c) => c.modelId)).toEqual([DEAR, CHEAP]);
    expect(candidates[0]).toMatchObject({ provider: 'anthropic', maxOutputTokens: 500 });
    expect(candidates[0]?.worstCaseUsd).toBeGreaterThan(candidates[1]?.worstCaseUsd ?? Infinity);
  });

  it('cheapest: sorted by worst case, leaving out what cannot hold the prompt', () => {
    expect(
      routeCandidates({ models: [DEAR, CHEAP], route: 'cheapest', ...request }).map((c) => c.modelId),
    ).toEqual([CHEAP, DEAR]);
    const overrides = { [CHEAP]: { contextWindow: 1_200 } };
    expect(
      routeCandidates({ models: [DEAR, CHEAP], route: 'cheapest', ...request, overrides }).map(
        (c) => c.modelId,
      ),
    ).toEqual([DEAR]);
    expect(() => routeCandidates({ models: [CHEAP], route: 'cheapest', ...request, overrides })).toThrow(
      NoModelFitsError,
    );
  });

  it('asks no more of a model than it can answer', () => {
    const [candidate] = routeCandidates({
      models: ['deepseek:deepseek-chat'],
      route: 'ordered',
      promptTokens: 10,
      maxOutputTokens: 50_000,
    });
    expect(candidate?.maxOutputTokens).toBe(8_192);
  });

  it('ordered: sends to a model of unknown window', () => {
    const overrides = { 'mine:m': { inputPerMTok: 1, outputPerMTok: 1 } };
    expect(routeCandidates({ models: ['mine:m'], route: 'ordered', ...request, overrides })).toHaveLength(1);
  });
});

describe('StickyRoutes', () => {
  it('puts first the model that last answered for a context', () => {
    const routes = new StickyRoutes();
    const candidates = routeCandidates({
      models: [CHEAP, DEAR],
      route: 'ordered',
      promptTokens: 10,
      maxOutputTokens: 10,
    });
    routes.answered('ctx-1', DEAR);
    expect(routes.order(candidates, 'ctx-1').map((c) => c.modelId)).toEqual([DEAR, CHEAP]);
    expect(routes.order(candidates, 'ctx-2').map((c) => c.modelId)).toEqual([CHEAP, DEAR]);
    expect(routes.order(candidates, undefined).map((c) => c.modelId)).toEqual([CHEAP, DEAR]);
  });
});
