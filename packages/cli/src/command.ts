import type { ParseArgsConfig } from 'node:util';
import type { Output } from './output';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export interface CommandInput {
  positionals: string[];
  values: Record<string, string | boolean | undefined>;
  out: Output;
  /** --redis, if given. */
  redis: string | undefined;
}

/** One verb of the `swarm` CLI. `run` resolves to the process exit code. */
export interface Command {
  name: string;
  usage: string;
  summary: string;
  options: OptionSpec;
  run(input: CommandInput): Promise<number>;
}
