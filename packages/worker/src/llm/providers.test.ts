import { describe, expect, it } from 'vitest';
import { modelRegistry, redactSecrets } from './providers';

describe('the model registry', () => {
  it('counts a gateway’s header credentials among the secrets it scrubs from vendor errors', () => {
    const registry = modelRegistry(
      {
        gateway: {
          kind: 'openai-compatible',
          baseURL: 'http://gateway.test/v1',
          headers: { Authorization: 'Bearer gw-secret-1234', 'cf-aig-authorization': 'cf-token-5678' },
        },
      },
      ['gateway:llama-3.1-8b'],
    );
    const echoed = 'bad auth: Bearer gw-secret-1234 and cf-token-5678';
    const scrubbed = redactSecrets(echoed, registry.secrets);
    expect(scrubbed).not.toContain('gw-secret-1234');
    expect(scrubbed).not.toContain('cf-token-5678');
  });
});
