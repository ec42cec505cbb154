import { type CliProcess, jsonLines, startSwarmCli } from '../support/cli';
import { until } from '../support/until';

/** `swarm dashboard` running as its own OS process, as a user starts it. */
export interface DashboardProcess {
  readonly url: string;
  readonly port: number;
  readonly cli: CliProcess;
  /** SIGKILL: no shutdown, open event streams just break. */
  kill(): Promise<void>;
  /** SIGTERM, and SIGKILL if it is still there after a while. */
  stop(): Promise<void>;
}

export interface DashboardProcessOptions {
  redisUrl: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  token?: string;
}

const gone = (cli: CliProcess) => cli.child.exitCode !== null || cli.child.signalCode !== null;

/** Starts `swarm dashboard --json` and waits for the line that says where it listens. */
export async function startDashboardProcess(options: DashboardProcessOptions): Promise<DashboardProcess> {
  const args = ['dashboard', '--port', String(options.port ?? 0), '--json'];
  if (options.token !== undefined) args.push('--token', options.token);
  const cli = startSwarmCli(args, { env: { SWARM_REDIS_URL: options.redisUrl } });
  cli.child.stdin.end();
  const started = () => jsonLines<{ url?: string; port?: number }>(cli.stdout).find((r) => r.url);
  try {
    await until(
      () => started() !== undefined || gone(cli),
      () => `swarm dashboard to listen (stderr: ${cli.stderr})`,
      30_000,
    );
  } catch (error) {
    cli.child.kill('SIGKILL');
    throw error;
  }
  const record = started();
  if (!record?.url || record.port === undefined)
    throw new Error(`swarm dashboard exited with ${cli.child.exitCode}: ${cli.stderr}`);
  const exited = async () => {
    if (!gone(cli)) await cli.exited;
  };
  return {
    url: record.url,
    port: record.port,
    cli,
    async kill() {
      cli.child.kill('SIGKILL');
      await exited();
    },
    async stop() {
      if (gone(cli)) return;
      cli.child.kill('SIGTERM');
      const timer = setTimeout(() => cli.child.kill('SIGKILL'), 10_000);
      await exited();
      clearTimeout(timer);
    },
  };
}
