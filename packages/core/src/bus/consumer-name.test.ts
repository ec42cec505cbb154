import { describe, expect, it, vi } from 'vitest';
import { assertName } from '../keys';

const host = vi.hoisted(() => ({ name: 'vm' }));
vi.mock('node:os', async (original) => ({
  ...(await original<typeof import('node:os')>()),
  hostname: () => host.name,
}));

const { defaultConsumerName } = await import('./transport-bus');

describe('the default consumer name', () => {
  it.each([
    'vm',
    'a-very-long-kubernetes-pod-name-7f9c8d6b5-x2x9z.namespace.svc.cluster.local.internal.example',
    'host with spaces/and:colons',
    '_leading-underscore',
    '',
  ])('is a valid name whatever the host is called (%j)', (name) => {
    host.name = name;
    const consumer = defaultConsumerName();
    expect(() => assertName('consumer', consumer)).not.toThrow();
    expect(consumer).toMatch(new RegExp(`-${process.pid}-[0-9a-f]{8}$`));
  });
});
