import type { Command, OptionInfo, OptionSpec } from './command';
import { GLOBAL_OPTIONS } from './parse-flags';

function optionLines(options: OptionSpec): string[] {
  const rows = Object.entries(options).map(([name, info]: [string, OptionInfo]) => {
    const short = info.short ? `-${info.short}, ` : '';
    const value = info.type === 'string' ? ` ${info.value ?? '<value>'}` : '';
    const repeat = info.multiple ? ' ...' : '';
    const left = `${short}--${name}${value}${repeat}`;
    const right = `${info.description ?? ''}${info.default !== undefined ? ` (default: ${info.default})` : ''}`;
    return [left, right] as const;
  });
  const width = Math.min(32, Math.max(0, ...rows.map(([left]) => left.length)));
  return rows.map(([left, right]) =>
    left.length > width ? `  ${left}\n  ${' '.repeat(width)}  ${right}` : `  ${left.padEnd(width)}  ${right}`,
  );
}

/** `swarm <verb> --help` and `swarm help <verb>`: usage, what it does, each option with its default. */
export function verbHelp(command: Command): string {
  const own = Object.keys(command.options).length > 0 ? optionLines(command.options) : ['  (none)'];
  return [
    `usage: ${command.usage}`,
    '',
    command.summary,
    '',
    'options:',
    ...own,
    '',
    'options for every command:',
    ...optionLines(GLOBAL_OPTIONS),
  ].join('\n');
}

export function generalUsage(all: readonly Command[]): string {
  return [
    'usage: swarm <command> [options]',
    '',
    ...all.map((c) => `  ${c.usage}\n      ${c.summary}`),
    '',
    'options for every command:',
    ...optionLines(GLOBAL_OPTIONS),
    '',
    'swarm --version (-V) prints the version; swarm help <command> (or swarm <command> --help), one',
    "command's usage and options; swarm completion bash|zsh|fish, a shell completion script",
    '',
    'exit codes: 0 ok, 1 runtime failure (worker --once: the task failed; run --once: a task was dead-lettered),',
    '            2 usage or validation error, 3 no task (worker --once, claim),',
    '            4 the task is no longer held (report, renew, fail: already settled or lease lost; worker --once: lease lost)',
    '',
    'colour on a terminal only; NO_COLOR=1 turns it off, FORCE_COLOR=1 on',
  ].join('\n');
}
