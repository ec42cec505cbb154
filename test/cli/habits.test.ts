import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonLines, ROOT, SWARM_BIN, startSwarmCli, swarmCli } from '../support/cli';
import { until } from '../support/until';

/**
 * Issue #12's CLI list, the parts that need no Redis: help and flag errors, completion, colour,
 * validate against what run refuses, the embedded run's dead letters, swarm acl, and pnpm's
 * ELIFECYCLE line. Each spawns the real bundle.
 */

const FIXTURES = join(ROOT, 'test/cli/fixtures/validate');
const STACK_LINE = /\n\s+at /;
const ESC = '\x1b[';
/** `script` gives the CLI a terminal (a pty) in a test; -e passes the child's exit code on. */
const hasScript = spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;

/** The verbs `swarm --help` lists, read back from its usage lines. */
async function verbs(): Promise<string[]> {
  const help = await swarmCli(['--help']);
  return [...help.stdout.matchAll(/^ {2}swarm ([a-z]+)/gm)].map((m) => m[1] as string);
}

/** Runs the CLI on a pseudo-terminal; `input` is typed into it. */
function onTerminal(
  args: string,
  env: NodeJS.ProcessEnv = {},
  input = '',
): { code: number | null; output: string } {
  const result = spawnSync('script', ['-qec', `${process.execPath} ${SWARM_BIN} ${args}`, '/dev/null'], {
    cwd: ROOT,
    env: { ...process.env, SWARM_REDIS_URL: '', NO_COLOR: '', FORCE_COLOR: '', ...env },
    input,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: result.status, output: result.stdout + result.stderr };
}

describe('swarm help and flag errors (issue #12)', () => {
  it('swarm help <verb> and <verb> --help list each option with its description and default', async () => {
    const help = await swarmCli(['help', 'post']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: swarm post <swarm> <type>/);
    expect(help.stdout).toMatch(/^ {2}--data <json> +the task's data, as JSON \(default: null\)$/m);
    expect(help.stdout).toMatch(/^ {2}--redis <url> +Redis to use .*\(default: \$SWARM_REDIS_URL/m);
    expect((await swarmCli(['post', '--help'])).stdout).toBe(help.stdout);
    const worker = await swarmCli(['help', 'worker']);
    expect(worker.stdout).toMatch(
      /--lease-ms <ms> +a task not renewed within this is reclaimed \(default: 30000\)/,
    );
  });

  it('every option of every verb has a one-line description', async () => {
    const all = await verbs();
    expect(all).toEqual(
      expect.arrayContaining(['run', 'findings', 'dlq', 'unsubscribe', 'completion', 'acl']),
    );
    for (const verb of all) {
      const help = await swarmCli(['help', verb]);
      expect(help.code, verb).toBe(0);
      const options = help.stdout.split('options:')[1] ?? '';
      // An option line is `  --name [<value>]  description`; a long one puts it on the next line.
      const lines = options.split('\n').filter((l) => /^ {2}(-\w, )?--/.test(l));
      for (const line of lines) {
        const next = options.split('\n')[options.split('\n').indexOf(line) + 1] ?? '';
        const described = /^ {2}\S.*\S {2,}\S/.test(line) || /^ {10,}\S/.test(next);
        expect(described, `${verb}: ${line}`).toBe(true);
      }
    }
  });

  it('refuses a misspelt flag with its own message, a did-you-mean and exit 2', async () => {
    const flag = await swarmCli(['findings', 'x', '--folow']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toBe(
      'swarm: swarm findings has no option --folow; did you mean --follow? (see swarm help findings)\n',
    );
    expect(flag.stderr).not.toContain('Unknown option');
    const value = await swarmCli(['findings', 'x', '--follow', '--subscriber']);
    expect(value.code).toBe(2);
    expect(value.stderr).toContain('--subscriber needs a value: --subscriber <name>');
    const swallowed = await swarmCli(['findings', 'x', '--subscriber', '--follow']);
    expect(swallowed.code).toBe(2);
    expect(swallowed.stderr).toContain('--subscriber needs a value, got the option --follow');
    const boolean = await swarmCli(['status', '--json=yes']);
    expect(boolean.code).toBe(2);
    expect(boolean.stderr).toContain('--json takes no value');
    for (const r of [flag, value, swallowed, boolean]) expect(r.stderr).not.toMatch(STACK_LINE);
  });

  it('refuses a misspelt verb with a did-you-mean, and swarm help <verb> of one too', async () => {
    const verb = await swarmCli(['stauts']);
    expect(verb.code).toBe(2);
    expect(verb.stderr).toContain('unknown command "stauts"; did you mean status?');
    const help = await swarmCli(['help', 'findigns']);
    expect(help.code).toBe(2);
    expect(help.stderr).toContain('did you mean findings?');
  });

  it('dashboard --token "" is a usage error (exit 2): an empty ?token= would open the page', async () => {
    const empty = await swarmCli(['dashboard', '--host', '0.0.0.0', '--port', '0', '--token', '']);
    expect(empty.code, empty.stderr).toBe(2);
    expect(empty.stderr).toContain('--token is empty');
    expect(empty.stderr).not.toMatch(STACK_LINE);
  });

  it('dlq with a word too many is a usage error (exit 2) naming it, before anything connects', async () => {
    for (const args of [
      ['dlq', 'research', 'purge', '--yes', 'extra'],
      ['dlq', 'research', 'list', '1700000000000-0'],
    ]) {
      const result = await swarmCli(args);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toContain(`unexpected: ${args.at(-1)}`);
      expect(result.stderr).not.toMatch(STACK_LINE);
    }
  });

  it('--redis that is not a Redis URL is a usage error (exit 2) that names the scheme to use', async () => {
    const notUrl = await swarmCli(['status', '--redis', 'not a url']);
    expect(notUrl.code).toBe(2);
    expect(notUrl.stderr).toContain('expected redis://');
    const http = await swarmCli(['post', 's', 't', '--redis', 'http://:hunter2@localhost:6379']);
    expect(http.code).toBe(2);
    expect(http.stderr).toContain(
      'http:// is not a Redis scheme: use redis://host:port (or rediss:// for TLS)',
    );
    expect(http.stderr).not.toContain('hunter2');
    // Refused before a word about the transport.
    expect(http.stderr).not.toContain('transport:');
    const run = await swarmCli([
      'run',
      join(FIXTURES, 'dead-letter-then-finding.yaml'),
      '--redis',
      'ftp://x',
    ]);
    expect(run.code).toBe(2);
  });
});

describe('swarm completion (issue #12)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'swarm-completion-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** What bash offers for the words typed so far (the last one being completed). */
  function complete(script: string, words: string[]): string[] {
    const file = join(dir, 'swarm.bash');
    writeFileSync(file, script);
    const quoted = words.map((w) => `'${w}'`).join(' ');
    const out = execFileSync(
      'bash',
      [
        '-c',
        `source ${file}; COMP_WORDS=(${quoted}); COMP_CWORD=${words.length - 1}; _swarm; printf '%s\\n' "\${COMPREPLY[@]}"`,
      ],
      { encoding: 'utf8', cwd: dir },
    );
    return out.split('\n').filter(Boolean);
  }

  it("bash: a valid script that completes verbs, a verb's flags, flag values and sub-actions", async () => {
    const bash = await swarmCli(['completion', 'bash']);
    expect(bash.code).toBe(0);
    const file = join(dir, 'check.bash');
    writeFileSync(file, bash.stdout);
    expect(spawnSync('bash', ['-n', file]).status).toBe(0);
    expect(complete(bash.stdout, ['swarm', 'st'])).toEqual(['status']);
    expect(complete(bash.stdout, ['swarm', ''])).toEqual(expect.arrayContaining(await verbs()));
    expect(complete(bash.stdout, ['swarm', 'findings', 'x', '--fo'])).toEqual(['--follow']);
    expect(complete(bash.stdout, ['swarm', 'cost', 'x', '--by', ''])).toEqual(['model', 'type', 'day']);
    expect(complete(bash.stdout, ['swarm', 'acl', 'x', '--role', 'w'])).toEqual(['worker']);
    expect(complete(bash.stdout, ['swarm', 'dlq', 'research', 'p'])).toEqual(['purge']);
    expect(complete(bash.stdout, ['swarm', 'help', 'unsub'])).toEqual(['unsubscribe']);
  });

  it('zsh and fish: scripts that name every verb and option; another shell is a usage error', async () => {
    const all = await verbs();
    const zsh = await swarmCli(['completion', 'zsh']);
    expect(zsh.code).toBe(0);
    expect(zsh.stdout).toMatch(/^#compdef swarm/);
    expect(zsh.stdout).toContain("'--subscriber[a durable subscriber");
    const fish = await swarmCli(['completion', 'fish']);
    expect(fish.code).toBe(0);
    expect(fish.stdout).toContain("complete -c swarm -n '__fish_seen_subcommand_from findings' -l follow");
    for (const verb of all) {
      expect(zsh.stdout).toContain(`    ${verb}) _arguments`);
      expect(fish.stdout).toContain(`-a ${verb} -d`);
    }
    const other = await swarmCli(['completion', 'powershell']);
    expect(other.code).toBe(2);
    expect(other.stderr).toContain('swarm completion needs one of bash, zsh, fish, got powershell');
  });
});

describe.skipIf(!hasScript)('colour on a terminal, honouring NO_COLOR (issue #12)', () => {
  it('colours on a terminal; NO_COLOR turns it off, FORCE_COLOR on in a pipe', async () => {
    const run = `run ${join(FIXTURES, 'dead-letter-then-finding.yaml')} --once`;
    const terminal = onTerminal(run);
    expect(terminal.output).toContain('done good');
    expect(terminal.output).toContain(ESC);
    const noColour = onTerminal(run, { NO_COLOR: '1' });
    expect(noColour.output).toContain('done good');
    expect(noColour.output).not.toContain(ESC);
    const args = ['run', join(FIXTURES, 'dead-letter-then-finding.yaml'), '--once'];
    const piped = await swarmCli(args);
    expect(piped.stdout).toContain('done good');
    expect(piped.stdout + piped.stderr).not.toContain(ESC);
    const forced = await swarmCli(args, { env: { FORCE_COLOR: '1' } });
    expect(forced.stdout).toContain(ESC);
    // --json is for programs: never coloured.
    const json = await swarmCli([...args, '--json'], { env: { FORCE_COLOR: '1' } });
    expect(json.stdout).not.toContain(ESC);
    expect(jsonLines(json.stdout).length).toBeGreaterThan(0);
  });

  it('context put with no file on a terminal says how to give the context, instead of waiting', () => {
    const result = onTerminal('context put research --redis redis://127.0.0.1:1');
    expect(result.code).toBe(2);
    expect(result.output).toContain('swarm context put needs the context: name a file');
    expect(result.output).toContain('pipe it in');
  });
});

describe('swarm validate refuses what swarm run refuses (issue #12)', () => {
  it('a handler export that does not exist, at its line', async () => {
    const file = join(FIXTURES, 'missing-export.yaml');
    const validated = await swarmCli(['validate', file]);
    expect(validated.code).toBe(2);
    expect(validated.stderr).toContain(
      `${file}:6:44: handler module ${join(FIXTURES, 'handlers.mjs')} has no export named "anser"`,
    );
    expect((await swarmCli(['run', file, '--once'])).code).toBe(2);
  });

  it('a context pattern that matches no file, at its line', async () => {
    const file = join(FIXTURES, 'unmatched-context.yaml');
    const validated = await swarmCli(['validate', file]);
    expect(validated.code).toBe(2);
    expect(validated.stderr).toContain(
      `${file}:6:28: context file pattern "no-such-dir/*.md" matches no file under ${FIXTURES}`,
    );
    const run = await swarmCli(['run', file, '--once']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('matches no file');
  });

  it('a missing module together with the schema errors, not only after they are fixed', async () => {
    const file = join(FIXTURES, 'schema-and-module.yaml');
    const validated = await swarmCli(['validate', file]);
    expect(validated.code).toBe(2);
    expect(validated.stderr).toContain(`${file}:6:9: unknown key "concurency": did you mean "concurrency"?`);
    expect(validated.stderr).toContain(
      `${file}:7:28: module not found: ${join(FIXTURES, 'does-not-exist.mjs')}`,
    );
  });

  it('passes every example topology', async () => {
    for (const example of ['hello', 'alerts', 'cross-swarm', 'command-worker']) {
      const r = await swarmCli(['validate', join(ROOT, 'config/examples', `${example}.yaml`)]);
      expect(r.code, `${example}: ${r.stderr}`).toBe(0);
    }
  });
});

describe('an embedded run keeps its dead letters visible (issue #12)', () => {
  const topology = join(FIXTURES, 'dead-letter-then-finding.yaml');
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'swarm-dead-letters-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a long-running run prints them when stopped, and --dead-letters writes them as JSON lines', async () => {
    const file = join(dir, 'dead.jsonl');
    const run = startSwarmCli(['run', topology, '--dead-letters', file]);
    run.child.stdin.end();
    await until(() => run.stdout.includes('done good'), "the good task's finding", 60_000);
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(0);
    expect(run.stdout).toMatch(
      / {2}dl {2}job {2}task \S+ {2}dead-lettered after attempt 1\n {2}poisoned on purpose/,
    );
    const letters = jsonLines(readFileSync(file, 'utf8'));
    expect(letters).toMatchObject([
      { swarm: 'dl', type: 'job', task: { data: 'poison' }, errors: [{ message: 'poisoned on purpose' }] },
    ]);
    expect(run.stderr).toContain(`1 dead letter(s) written to ${file}`);
  });

  it('without a file, it says how to keep them; an unwritable file is refused before the run', async () => {
    const run = await swarmCli(['run', topology, '--once']);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('poisoned on purpose');
    const refused = await swarmCli(['run', topology, '--dead-letters', join(dir, 'no/such/dir/x.jsonl')]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--dead-letters');
    expect(refused.stderr).toContain('cannot write it (ENOENT)');
  });
});

describe('swarm acl (issue #12)', () => {
  it('prints the ACL SETUSER line for a role, the password only as its SHA-256', async () => {
    const secret = 'correct horse battery staple';
    const r = await swarmCli(['acl', 'research', '--role', 'reader', '--password-env', 'PW'], {
      env: { PW: secret },
    });
    expect(r.code).toBe(0);
    const line = r.stdout.trim();
    expect(line).toMatch(
      /^ACL SETUSER swarm-research-reader reset on #[0-9a-f]{64} %R~swarm:\{research\}:\* /,
    );
    expect(line).toContain(`#${createHash('sha256').update(secret).digest('hex')}`);
    expect(line).toContain(' &swarm:{research}:* ');
    expect(line).not.toContain(secret);
    // A reader writes nothing but findings' script keys and its cursor, and sends no write of a stream.
    expect(line).not.toMatch(/\+(xadd|xack|xtrim|xdel|xreadgroup)\b/);
    const json = JSON.parse(
      (await swarmCli(['acl', 'research', '--role', 'admin', '--user', 'ops', '--json'])).stdout,
    );
    expect(json).toMatchObject({ swarm: 'research', role: 'admin', user: 'ops' });
    expect(json.rules).toEqual(
      expect.arrayContaining(['~swarm:{research}:*', '+xtrim', '+wait', '><password>']),
    );
  });

  it('without --password-env, a placeholder and a note; a bad role or an empty variable is a usage error', async () => {
    const placeholder = await swarmCli(['acl', 'research', '--role', 'worker']);
    expect(placeholder.stdout).toContain(' reset on ><password> ');
    expect(placeholder.stderr).toContain('replace <password>');
    const role = await swarmCli(['acl', 'research', '--role', 'owner']);
    expect(role.code).toBe(2);
    expect(role.stderr).toContain('--role must be one of worker, poster, reader, admin, got owner');
    const empty = await swarmCli(['acl', 'research', '--role', 'worker', '--password-env', 'NOT_SET_HERE']);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain(
      '--password-env NOT_SET_HERE: that environment variable is empty or not set',
    );
  });
});

const hasPnpm = spawnSync('pnpm', ['--version'], { stdio: 'ignore' }).status === 0;

describe.skipIf(!hasPnpm)("pnpm's ELIFECYCLE line (issue #12)", () => {
  it('pnpm exec swarm keeps the exit code and adds nothing; the README shows no pnpm swarm example', async () => {
    const child = spawn('pnpm', ['exec', 'swarm', 'dlq'], {
      cwd: ROOT,
      env: { ...process.env, SWARM_REDIS_URL: '' },
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => {
      output += d;
    });
    child.stderr.on('data', (d: Buffer) => {
      output += d;
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(2);
    expect(output).toContain('swarm dlq needs <swarm>');
    expect(output).not.toContain('ELIFECYCLE');
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(readme).not.toMatch(/^pnpm swarm /m);
    expect(readme).toContain('pnpm exec swarm run config/examples/hello.yaml --once');
  });
});
