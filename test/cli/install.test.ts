import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import cliPackage from '../../packages/cli/package.json' with { type: 'json' };
import { type CliOptions, ROOT, swarmCli } from '../support/cli';
import { useRedisServer } from '../support/redis-server';

const run = promisify(execFile);

/** npm reads npm_config_* from the environment, and pnpm sets its own there for the test run. */
function envForNpm(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));
}

/**
 * What a user gets from `npm i -g` of the tarball `pnpm pack` makes (issue #9): a `swarm` on the
 * PATH that runs from any directory, with nothing of this repository beside it. One install per
 * run: packing and installing take seconds to minutes.
 */
describe('swarm installed from its packed tarball', () => {
  const redis = useRedisServer();
  let tmp: string;
  /** Where every command runs from: neither the repository nor the project. */
  let elsewhere: string;
  let installed: CliOptions;
  let packageDir: string;

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'swarm-install-'));
    await run('pnpm', ['pack', '--pack-destination', tmp], { cwd: join(ROOT, 'packages/cli') });
    const tarball = readdirSync(tmp).find((f) => f.endsWith('.tgz'));
    if (!tarball) throw new Error(`pnpm pack left no tarball in ${tmp}`);
    const prefix = join(tmp, 'prefix');
    await run(
      'npm',
      ['install', '--global', '--prefix', prefix, '--no-audit', '--no-fund', join(tmp, tarball)],
      {
        cwd: tmp,
        env: envForNpm(),
      },
    );
    packageDir = join(prefix, 'lib/node_modules', cliPackage.name);
    cpSync(join(ROOT, 'test/cli/fixtures/outside'), join(tmp, 'project'), { recursive: true });
    elsewhere = join(tmp, 'elsewhere');
    mkdirSync(elsewhere);
    installed = {
      bin: join(prefix, 'bin/swarm'),
      cwd: elsewhere,
      // pnpm's bin shims point NODE_PATH into this repository's node_modules: a user has no such thing.
      env: { SWARM_REDIS_URL: redis.url, NODE_PATH: undefined },
    };
  }, 300_000);

  afterAll(async () => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('prints the version of its package.json', async () => {
    for (const flag of ['--version', '-V']) {
      const result = await swarmCli([flag], installed);
      expect(result).toMatchObject({ code: 0, stdout: `${cliPackage.version}\n` });
    }
  });

  it('loads every verb: each one is a bundle of its own', async () => {
    const result = await swarmCli(['--help'], installed);
    expect(result.code, result.stderr).toBe(0);
    for (const verb of ['run', 'validate', 'post', 'worker', 'findings', 'status', 'dlq', 'context'])
      expect(result.stdout).toContain(`swarm ${verb} `);
  });

  it('runs the walkthrough from another directory: post, worker --once, findings', async () => {
    const posted = await swarmCli(
      ['post', 'health', 'redis_health_check', '--data', '{"test":"ping"}'],
      installed,
    );
    expect(posted.code, posted.stderr).toBe(0);
    const worker = await swarmCli(['worker', 'health', 'redis_health_check', '--once'], installed);
    expect(worker.code, worker.stderr).toBe(0);
    const findings = await swarmCli(['findings', 'health'], installed);
    expect(findings.code, findings.stderr).toBe(0);
    expect(findings.stdout).toContain(posted.stdout.trim());
    expect(findings.stdout).toContain('Redis ping successful: PONG');
    // The first run of a verb stored its compiled code for the next (packages/cli/load-verb.mjs).
    expect(readdirSync(join(packageDir, 'dist/code-cache'))).toEqual(
      expect.arrayContaining([expect.stringMatching(/^worker-[0-9a-f]{16}\.bin$/)]),
    );
  });

  it('runs a topology named relative to the working directory, its modules relative to the file', async () => {
    // JavaScript and TypeScript handlers, one of them isolated in a child process, and a
    // TypeScript actor: tsx comes from the installed package, not from this repository.
    const result = await swarmCli(['run', '../project/topology.yaml', '--once'], {
      ...installed,
      env: { ...installed.env, SWARM_REDIS_URL: '' },
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/\d+ words/);
    expect(result.stdout).toContain('HELLO FROM TYPESCRIPT!');
    expect(result.stdout).toContain('HELLO FROM A CHILD PROCESS!');
    expect(result.stdout).toContain('tally actor outside started');
    expect(result.stderr).toContain('done: 3 task(s), 3 finding(s), 0 dead letter(s)');
  });

  it('says what to do when a module outside the repository imports @swarm/core', async () => {
    const result = await swarmCli(['validate', '../project/imports-core.yaml'], installed);
    expect(result.code, `${result.stdout}${result.stderr}`).toBe(2);
    expect(result.stderr).toContain("Cannot find module '@swarm/core'");
    expect(result.stderr).toContain('outside the swarm repository @swarm/core is not installed');
  });
});
