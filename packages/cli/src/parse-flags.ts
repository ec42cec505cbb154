import { type ParseArgsConfig, parseArgs } from 'node:util';
import type { OptionSpec } from './command';
import { didYouMean } from './did-you-mean';
import { UsageError } from './errors';

export const GLOBAL_OPTIONS: OptionSpec = {
  redis: {
    type: 'string',
    value: '<url>',
    description: 'Redis to use (redis:// or rediss://)',
    default: '$SWARM_REDIS_URL; `run` falls back to the embedded transport',
  },
  json: { type: 'boolean', description: 'one JSON object per line instead of text' },
  help: { type: 'boolean', short: 'h', description: "print this verb's usage and options" },
};

export interface ParsedFlags {
  positionals: string[];
  values: Record<string, string | boolean | string[] | undefined>;
}

/**
 * parseArgs, with our own messages: Node's (`Unknown option '--x'. To specify a positional
 * argument starting with a '-', place it at the end of the command after '--', as in '-- "--x"`)
 * has an unbalanced quote and suggests nothing. Parsed leniently, then every option token is
 * checked against the verb's options here.
 */
export function parseFlags(verb: string, args: string[], verbOptions: OptionSpec): ParsedFlags {
  const options: OptionSpec = { ...GLOBAL_OPTIONS, ...verbOptions };
  const config: NonNullable<ParseArgsConfig['options']> = {};
  for (const [name, info] of Object.entries(options))
    config[name] = {
      type: info.type,
      ...(info.short ? { short: info.short } : {}),
      ...(info.multiple ? { multiple: true } : {}),
    };
  const { values, positionals, tokens } = parseArgs({
    args,
    options: config,
    allowPositionals: true,
    strict: false,
    tokens: true,
  });
  const seeHelp = `(see swarm help ${verb})`;
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    const info = Object.hasOwn(options, token.name) ? options[token.name] : undefined;
    if (!info) {
      const hint = didYouMean(token.name, Object.keys(options), (n) => `--${n}`);
      throw new UsageError(`swarm ${verb} has no option ${token.rawName}${hint} ${seeHelp}`);
    }
    const flag = token.rawName.startsWith('--') ? token.rawName : `--${token.name}`;
    if (info.type === 'boolean' && token.value !== undefined)
      throw new UsageError(`${flag} takes no value, got ${flag}=${token.value} ${seeHelp}`);
    if (info.type === 'string') {
      if (token.value === undefined)
        throw new UsageError(`${flag} needs a value: ${flag} ${info.value ?? '<value>'} ${seeHelp}`);
      // `--subscriber --follow`: the next flag was taken for the value.
      if (!token.inlineValue && /^--?[A-Za-z]/.test(token.value))
        throw new UsageError(
          `${flag} needs a value, got the option ${token.value} (write ${flag}=${token.value} if that is the value)`,
        );
    }
  }
  return { positionals, values: values as ParsedFlags['values'] };
}
