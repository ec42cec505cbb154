import type { Output } from './output';

/** One flag of a verb: how parseArgs reads it, and what help and completion say about it. */
export interface OptionInfo {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  /** One line for `--help`. */
  description?: string;
  /** What the verb uses when the flag is absent, as help shows it. */
  default?: string;
  /** The value's placeholder in help (`<n>`, `<url>`); `<value>` when not given. */
  value?: string;
  /** The values it takes, when they are few: shell completion offers them. */
  choices?: readonly string[];
}

export type OptionSpec = Record<string, OptionInfo>;

export interface CommandInput {
  positionals: string[];
  values: Record<string, string | boolean | undefined>;
  out: Output;
  /** --redis, if given. */
  redis: string | undefined;
  /** Every verb, loaded: for the verbs that describe the others (completion). */
  catalog?: () => Promise<Command[]>;
}

/** One verb of the `swarm` CLI. `run` resolves to the process exit code. */
export interface Command {
  name: string;
  usage: string;
  summary: string;
  options: OptionSpec;
  run(input: CommandInput): Promise<number>;
}
