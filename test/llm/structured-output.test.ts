import { MemoryBus } from '@swarm/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findings, LlmRig, llmPoolSpec, providersOf, uniqueSwarm, until } from './helpers';

const schema = {
  type: 'object',
  properties: {
    answer: { type: 'string' },
    confidence: { type: 'number', minimum: 0, maximum: 1 },
  },
  required: ['answer', 'confidence'],
  additionalProperties: false,
};

describe('an llm pool with a JSON Schema for its output', () => {
  let bus: MemoryBus;
  let swarm: string;
  const rig = new LlmRig();

  beforeEach(() => {
    bus = new MemoryBus();
    swarm = uniqueSwarm();
  });
  afterEach(async () => {
    await rig.stop();
    await bus.close();
  });

  it.each([
    ['anthropic', 'anthropic:claude-haiku-4-5'],
    ['openai', 'openai:gpt-4.1-mini'],
    ['google', 'google:gemini-2.5-flash'],
  ] as const)('%s: sends the schema and makes the checked answer the finding’s data', async (kind, model) => {
    const fake = await rig.vendor({ kind, script: [{ json: { answer: 'Redis', confidence: 0.9 } }] });
    await rig.pool(bus, swarm, llmPoolSpec({ model, output: schema }), {
      providers: providersOf({ [kind]: fake }),
    });
    await bus.post(swarm, 'ask', { description: 'What holds the tasks?' });
    const [finding] = await findings(bus, swarm, 1);
    expect(finding?.data).toEqual({ answer: 'Redis', confidence: 0.9 });
    expect(JSON.parse(finding?.summary ?? '')).toEqual({ answer: 'Redis', confidence: 0.9 });
    expect(fake.requests[0]?.structured).toBe(true);
  });

  it('retries a reply that does not validate, then dead-letters it with the validation error', async () => {
    const fake = await rig.vendor({
      kind: 'openai',
      script: () => ({ json: { answer: 42, confidence: 3 } }),
    });
    const pool = await rig.pool(
      bus,
      swarm,
      llmPoolSpec({ model: 'openai:gpt-4.1-mini', output: schema }, { maxAttempts: 2 }),
      { providers: providersOf({ openai: fake }) },
    );
    await bus.post(swarm, 'ask', { description: 'q' });
    await until(async () => (await bus.deadLetters(swarm)).length === 1, 'the dead letter');
    const [letter] = await bus.deadLetters(swarm);
    expect(letter?.errors).toHaveLength(2);
    for (const error of letter?.errors ?? [])
      expect(error.message).toMatch(
        /openai:gpt-4\.1-mini: the answer does not match the output schema: answer: expected string, received number; confidence: .*1/,
      );
    expect(await bus.readFindings(swarm)).toEqual([]);
    expect(fake.counts.requests).toBe(2);
    expect(pool.stats).toMatchObject({ completed: 0, failed: 2 });
  });

  it('fails a reply that is not JSON at all', async () => {
    const fake = await rig.vendor({ kind: 'google', script: () => ({ text: 'Sure! Here it is.' }) });
    await rig.pool(
      bus,
      swarm,
      llmPoolSpec({ model: 'google:gemini-2.5-flash', output: schema }, { maxAttempts: 1 }),
      { providers: providersOf({ google: fake }) },
    );
    await bus.post(swarm, 'ask', { description: 'q' });
    await until(async () => (await bus.deadLetters(swarm)).length === 1, 'the dead letter');
    const [letter] = await bus.deadLetters(swarm);
    expect(letter?.errors[0]?.message).toContain('it is not JSON: "Sure! Here it is."');
  });

  it('fails its start on a schema that cannot be checked', async () => {
    const fake = await rig.vendor({ kind: 'openai' });
    const start = rig.pool(
      bus,
      swarm,
      llmPoolSpec({ model: 'openai:gpt-4.1-mini', output: { type: 'bogus' } }),
      {
        providers: providersOf({ openai: fake }),
      },
    );
    await expect(start).rejects.toThrow(/output is not a JSON Schema swarm can check answers with/);
  });
});
