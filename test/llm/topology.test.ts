import { parseTopology, TopologyInvalidError, type TopologyIssue } from '@swarm/core';
import { checkModel } from '@swarm/worker';
import { describe, expect, it } from 'vitest';

const FILE = '/topologies/models.yaml';

function issuesOf(source: string): TopologyIssue[] {
  try {
    parseTopology(source, FILE, { checkModel, offline: true });
  } catch (error) {
    if (error instanceof TopologyInvalidError) return error.issues;
    throw error;
  }
  return [];
}

const pool = (llm: string, extra = '') => `swarms:
  s:
    workers:
      - type: ask
        handler:
          llm: ${llm}${extra}
`;

describe('a topology’s llm pools, checked at load', () => {
  it('takes providers, prices, budgets and every llm field', () => {
    const loaded = parseTopology(
      `providers:
  anthropic: { limits: { requestsPerMinute: 50, concurrency: 4 } }
  myvllm: { kind: openai-compatible, baseURL: "http://127.0.0.1:8000/v1" }
prices:
  "myvllm:llama-3.1-8b": { inputPerMTok: 0.1, outputPerMTok: 0.2, contextWindow: 128000 }
swarms:
  s:
    budget: { usd: 5 }
    workers:
      - type: ask
        budget: { usd: 1, tokens: 1000000 }
        handler:
          llm:
            model: anthropic:claude-haiku-4-5
            fallback: [myvllm:llama-3.1-8b]
            route: cheapest
            system: You answer briefly.
            prompt: "{{description}}: {{data.q}}"
            context: none
            output: { type: object, properties: { a: { type: string } }, required: [a] }
            maxOutputTokens: 200
            temperature: 0.2
            hedge: { afterMs: 2000 }
`,
      FILE,
      { checkModel, offline: true },
    );
    expect(loaded.topology.swarms.s?.workers[0]?.handler.llm).toMatchObject({
      model: 'anthropic:claude-haiku-4-5',
      route: 'cheapest',
      hedge: { afterMs: 2_000 },
    });
  });

  it('reports a provider neither known nor configured, at its line', () => {
    expect(issuesOf(pool('{ model: "acme:m1" }'))).toMatchObject([
      {
        line: 6,
        path: 'swarms.s.workers[0].handler.llm.model',
        message: expect.stringMatching(/unknown provider "acme"/),
      },
    ]);
  });

  it('reports a model with no price, saying how to give one', () => {
    const [issue] = issuesOf(`providers:
  myvllm: { kind: openai-compatible, baseURL: "http://127.0.0.1:8000/v1" }
${pool('{ model: anthropic:claude-haiku-4-5, fallback: ["myvllm:unpriced"] }')}`);
    expect(issue).toMatchObject({
      path: 'swarms.s.workers[0].handler.llm.fallback[0]',
      message: expect.stringMatching(/no price for model myvllm:unpriced.*prices:/),
    });
  });

  it('reports a model with no context window under route: cheapest', () => {
    const [issue] = issuesOf(`providers:
  myvllm: { kind: openai-compatible, baseURL: "http://127.0.0.1:8000/v1" }
prices:
  "myvllm:m": { inputPerMTok: 1, outputPerMTok: 2 }
${pool('{ model: "myvllm:m", route: cheapest }')}`);
    expect(issue?.message).toMatch(/no context window known for model myvllm:m/);
  });

  it('reports a budget on a pool that is not llm, and a hedge with no second model', () => {
    const issues = issuesOf(`swarms:
  s:
    workers:
      - { type: a, budget: { usd: 1 }, handler: { builtin: echo } }
      - { type: b, handler: { llm: { model: anthropic:claude-haiku-4-5, hedge: { afterMs: 100 } } } }
`);
    expect(issues.map((i) => [i.path, i.message])).toEqual([
      ['swarms.s.workers[0].budget', 'budget applies to llm handlers only'],
      ['swarms.s.workers[1].handler.llm.hedge', 'hedge needs a second model to ask: add one under fallback'],
    ]);
  });

  it('reports a provider of its own with no kind, and an OpenAI-compatible one with no baseURL', () => {
    const issues = issuesOf(`providers:
  gateway: { apiKey: x }
  local: { kind: openai-compatible }
swarms: {}
`);
    expect(issues.map((i) => i.message)).toEqual([
      expect.stringMatching(/provider "gateway" needs a kind/),
      'provider "local" is openai-compatible: give its baseURL',
    ]);
  });
});
