import { describe, expect, it } from 'vitest';
import { buildPrompt, renderPrompt } from './prompt';

describe('renderPrompt', () => {
  const task = { description: 'Summarise', data: { topic: 'leases', n: 3, nested: { a: [1, 2] } } };

  it('fills in the description, the data as JSON, and data keys', () => {
    expect(renderPrompt('{{description}}: {{data.topic}} ({{ data.n }})', task)).toBe(
      'Summarise: leases (3)',
    );
    expect(renderPrompt('{{data}}', task)).toBe('{"topic":"leases","n":3,"nested":{"a":[1,2]}}');
    expect(renderPrompt('{{data.nested.a}} {{data.nested.a.1}}', task)).toBe('[1,2] 2');
  });

  it('leaves nothing for what the task does not have, and other braces alone', () => {
    expect(renderPrompt('[{{data.missing}}] {{other}}', task)).toBe('[] {{other}}');
    expect(renderPrompt('[{{data}}]', { description: '', data: null })).toBe('[]');
  });
});

describe('buildPrompt', () => {
  it('puts the context first, as its own part with a cache mark, then the prompt', () => {
    const prompt = buildPrompt({ system: 'Be brief.', context: 'The runbook.', prompt: 'What is in it?' });
    expect(prompt.system).toBe('Be brief.');
    expect(prompt.messages).toEqual([
      {
        role: 'user',
        content: [
          {
            type: 'text',
            text: 'The runbook.',
            providerOptions: { anthropic: { cacheControl: { type: 'ephemeral' } } },
          },
          { type: 'text', text: 'What is in it?' },
        ],
      },
    ]);
    expect(prompt.tokens).toBeGreaterThan(0);
  });

  it('sends the prompt alone without a context', () => {
    expect(buildPrompt({ prompt: 'Hi' }).messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Hi' }] },
    ]);
  });
});
