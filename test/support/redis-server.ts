import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';

export interface RedisServerOptions {
  /** Append-only persistence; `false` keeps nothing on disk. */
  appendonly?: false | 'always' | 'everysec';
  /** Extra `redis-server` arguments, e.g. `['--aclfile', path]`. */
  args?: string[];
}

/**
 * A private redis-server for one test file. Tests may kill, pause and restart it,
 * which is why no test shares the machine's Redis on 6379.
 */
export interface RedisServer {
  readonly url: string;
  readonly port: number;
  /** False when REDIS_URL points at a server this helper does not own. */
  readonly controllable: boolean;
  /** SIGKILL: no shutdown, no final fsync. */
  kill(): Promise<void>;
  /** SIGSTOP: the socket stays open but nothing answers. */
  pause(): void;
  /** SIGCONT after pause(). */
  resume(): void;
  /** Starts again on the same port and data dir (after kill or stop). */
  start(): Promise<void>;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Servers still running when the test process exits are killed with it, never left behind. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

function hasRedisServerBinary(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

async function waitForPing(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.ping();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(20);
    } finally {
      client.disconnect();
    }
  }
}

/** Starts a private redis-server; with REDIS_URL set, hands back that server instead. */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const override = process.env.REDIS_URL;
  if (override && !options.appendonly && !options.args) return externalServer(override);
  if (!hasRedisServerBinary()) return startContainer(options);

  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'swarm-redis-'));
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    options.appendonly ? 'yes' : 'no',
    ...(options.appendonly ? ['--appendfsync', options.appendonly] : []),
    ...(options.args ?? []),
  ];
  let child: ChildProcess | undefined;
  const url = `redis://127.0.0.1:${port}`;

  const start = async () => {
    const proc = spawn('redis-server', args, { stdio: 'ignore' });
    child = proc;
    running.add(proc);
    proc.once('exit', () => running.delete(proc));
    await waitForPing(url, 10_000);
  };
  const exited = async () => {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    await new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  };
  const kill = async () => {
    child?.kill('SIGCONT');
    child?.kill('SIGKILL');
    await exited();
  };
  await start();
  return {
    url,
    port,
    controllable: true,
    kill,
    pause: () => child?.kill('SIGSTOP'),
    resume: () => child?.kill('SIGCONT'),
    start,
    async restart() {
      await kill();
      await start();
    },
    async stop() {
      child?.kill('SIGCONT');
      child?.kill('SIGTERM');
      await exited();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** What useRedisServer() hands a describe body: read `url` and `server` inside hooks and tests. */
export interface RedisServerFixture {
  readonly url: string;
  readonly server: RedisServer;
}

/**
 * A private redis-server for the enclosing describe (or file): started in beforeAll, stopped in
 * afterAll. Call it before the hooks that use it: vitest runs after-hooks in reverse order, so
 * theirs (closing buses and clients) run before the server stops.
 */
export function useRedisServer(options: RedisServerOptions = {}): RedisServerFixture {
  let started: RedisServer | undefined;
  beforeAll(async () => {
    started = await startRedisServer(options);
  });
  afterAll(async () => {
    await started?.stop();
  });
  return {
    get server() {
      // The describe body runs before beforeAll: a URL read there would be undefined.
      if (!started)
        throw new Error('useRedisServer(): the server starts in beforeAll; read it in a hook or test');
      return started;
    },
    get url() {
      return this.server.url;
    },
  };
}

function externalServer(url: string): RedisServer {
  const refuse = () => {
    throw new Error('REDIS_URL points at a server this test does not own: it cannot be killed or paused');
  };
  return {
    url,
    port: Number(new URL(url).port || 6379),
    controllable: false,
    kill: async () => refuse(),
    pause: refuse,
    resume: refuse,
    start: async () => refuse(),
    restart: async () => refuse(),
    stop: async () => {},
  };
}

/** Where no redis-server binary exists but a Docker engine answers. */
async function startContainer(options: RedisServerOptions): Promise<RedisServer> {
  const { GenericContainer } = await import('testcontainers');
  const command = [
    'redis-server',
    '--appendonly',
    options.appendonly ? 'yes' : 'no',
    ...(options.args ?? []),
  ];
  const container = await new GenericContainer('redis:7').withExposedPorts(6379).withCommand(command).start();
  const url = () => `redis://${container.getHost()}:${container.getMappedPort(6379)}`;
  return {
    get url() {
      return url();
    },
    get port() {
      return container.getMappedPort(6379);
    },
    controllable: true,
    kill: async () => {
      await container.stop({ timeout: 0 });
    },
    pause: () => {
      throw new Error('pause() needs a local redis-server binary');
    },
    resume: () => {
      throw new Error('resume() needs a local redis-server binary');
    },
    start: async () => {
      await container.restart();
    },
    restart: async () => {
      await container.restart();
    },
    stop: async () => {
      await container.stop();
    },
  };
}
