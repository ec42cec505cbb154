import { MemoryBus } from '@swarm/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createDashboardApp } from './app';

const buses: MemoryBus[] = [];
afterEach(async () => {
  await Promise.all(buses.splice(0).map((b) => b.close()));
});

describe('dashboard access: the Host check (issue #12)', () => {
  it('listening on an IPv4-mapped loopback address, takes a Host that names it and refuses another', async () => {
    const bus = new MemoryBus();
    buses.push(bus);
    const { app } = createDashboardApp({ bus, host: '::ffff:127.0.0.1' });
    const as = (host: string) => app.request('http://x/api/swarms', { headers: { host } });
    expect((await as('[::ffff:127.0.0.1]:7777')).status).toBe(200);
    expect((await as('127.0.0.1:7777')).status).toBe(200);
    expect((await as('[::ffff:10.0.0.1]:7777')).status).toBe(403);
    expect((await as('evil.example:7777')).status).toBe(403);
  });
});
