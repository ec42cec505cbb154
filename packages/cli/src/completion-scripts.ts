import type { Command, OptionInfo } from './command';
import { GLOBAL_OPTIONS } from './parse-flags';

/**
 * Shell completion scripts, generated from the verbs' own option metadata, so a new flag is
 * completed without anyone editing a script. Words after the verb that name a sub-action
 * (`dlq <swarm> purge`) come from SUBACTIONS; everything else completes file names.
 */

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

/** Words a verb takes as its first or second positional. */
const SUBACTIONS: Record<string, { at: number; words: readonly string[] }> = {
  dlq: { at: 2, words: ['list', 'retry', 'purge'] },
  context: { at: 1, words: ['put', 'get'] },
  protocol: { at: 1, words: ['scripts'] },
  completion: { at: 1, words: SHELLS },
};

const optionsOf = (c: Command): [string, OptionInfo][] => Object.entries({ ...c.options, ...GLOBAL_OPTIONS });

/** Single-quoted for the shell: `'` becomes `'\''`. */
const quote = (text: string) => `'${text.replace(/'/g, "'\\''")}'`;

function bash(commands: readonly Command[]): string {
  const verbs = [...commands.map((c) => c.name), 'help'].join(' ');
  const cases = commands.map((c) => {
    const flags = optionsOf(c)
      .map(([name]) => `--${name}`)
      .join(' ');
    const valued = optionsOf(c)
      .filter(([, o]) => o.type === 'string')
      .map(
        ([name, o]) =>
          `      --${name}) COMPREPLY=($(compgen -W ${quote((o.choices ?? []).join(' '))} -- "$cur")); return ;;`,
      )
      .join('\n');
    const sub = SUBACTIONS[c.name];
    const subLine = sub
      ? `    if [[ $position -eq ${sub.at} ]]; then COMPREPLY=($(compgen -W ${quote(sub.words.join(' '))} -- "$cur")); return; fi\n`
      : '';
    return `  ${c.name})\n    case "$prev" in\n${valued}\n    esac\n    if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W ${quote(flags)} -- "$cur")); return; fi\n${subLine}    ;;`;
  });
  return `# swarm completion for bash: source <(swarm completion bash)
_swarm() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}" verb="\${COMP_WORDS[1]}"
  local i position=0
  COMPREPLY=()
  if [[ $COMP_CWORD -eq 1 ]]; then
    COMPREPLY=($(compgen -W ${quote(verbs)} -- "$cur"))
    return
  fi
  if [[ $verb == help ]]; then
    [[ $COMP_CWORD -eq 2 ]] && COMPREPLY=($(compgen -W ${quote(verbs)} -- "$cur"))
    return
  fi
  # Which positional the cursor is on (flags and their values do not count; good enough to place sub-actions).
  for ((i = 2; i < COMP_CWORD; i++)); do
    [[ \${COMP_WORDS[i]} == -* ]] || position=$((position + 1))
  done
  position=$((position + 1))
  case "$verb" in
${cases.join('\n')}
  esac
  COMPREPLY=($(compgen -f -- "$cur"))
}
complete -o default -F _swarm swarm
`;
}

/** zsh _arguments specs: `--from[where to start]:value:(a b)`; brackets and colons escaped. */
function zshSpec(name: string, o: OptionInfo): string {
  const desc = (o.description ?? '').replace(/[[\]:\\]/g, (c) => `\\${c}`);
  const repeat = o.multiple ? '*' : '';
  const value = o.type === 'string' ? `:${name}:${o.choices ? `(${o.choices.join(' ')})` : ''}` : '';
  return quote(`${repeat}--${name}[${desc}]${value}`);
}

function zsh(commands: readonly Command[]): string {
  const verbs = commands.map((c) => quote(`${c.name}:${c.summary.replace(/:/g, '\\:').slice(0, 80)}`));
  const cases = commands.map((c) => {
    const sub = SUBACTIONS[c.name];
    const positional = sub
      ? `'${sub.at}:action:(${sub.words.join(' ')})' '*:file:_files'`
      : `'*:file:_files'`;
    return `    ${c.name}) _arguments ${optionsOf(c)
      .map(([n, o]) => zshSpec(n, o))
      .join(' ')} ${positional} ;;`;
  });
  return `#compdef swarm
# swarm completion for zsh: source <(swarm completion zsh), or save as _swarm on your $fpath
_swarm() {
  local -a verbs
  verbs=(${verbs.join(' ')} 'help:print the usage of a command')
  if (( CURRENT == 2 )); then
    _describe command verbs
    return
  fi
  local verb=$words[2]
  shift words
  (( CURRENT-- ))
  case $verb in
    help) _describe command verbs ;;
${cases.join('\n')}
  esac
}
compdef _swarm swarm
`;
}

function fish(commands: readonly Command[]): string {
  const lines = ['# swarm completion for fish: swarm completion fish | source', 'complete -c swarm -f'];
  for (const c of commands)
    lines.push(`complete -c swarm -n __fish_use_subcommand -a ${c.name} -d ${quote(c.summary.slice(0, 80))}`);
  lines.push(`complete -c swarm -n __fish_use_subcommand -a help -d 'print the usage of a command'`);
  lines.push(
    `complete -c swarm -n '__fish_seen_subcommand_from help' -a ${quote(commands.map((c) => c.name).join(' '))}`,
  );
  for (const c of commands) {
    const when = quote(`__fish_seen_subcommand_from ${c.name}`);
    for (const [name, o] of optionsOf(c)) {
      const value = o.type === 'string' ? (o.choices ? ` -x -a ${quote(o.choices.join(' '))}` : ' -r') : '';
      const short = o.short ? ` -s ${o.short}` : '';
      lines.push(`complete -c swarm -n ${when} -l ${name}${short}${value} -d ${quote(o.description ?? '')}`);
    }
    const sub = SUBACTIONS[c.name];
    if (sub) lines.push(`complete -c swarm -n ${when} -a ${quote(sub.words.join(' '))}`);
    if (['run', 'validate', 'claim', 'context', 'worker'].includes(c.name))
      lines.push(`complete -c swarm -n ${when} -F`);
  }
  return `${lines.join('\n')}\n`;
}

export function completionScript(shell: Shell, commands: readonly Command[]): string {
  const sorted = [...commands].sort((a, b) => (a.name < b.name ? -1 : 1));
  return shell === 'bash' ? bash(sorted) : shell === 'zsh' ? zsh(sorted) : fish(sorted);
}
