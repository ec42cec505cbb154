/**
 * Human output by default, one JSON object per line with --json, so scripts never parse prose.
 * Credentials never reach either: URLs are redacted before they are printed.
 */
export interface Output {
  readonly json: boolean;
  /** A result: `human` for people, `record` for --json. */
  result(human: string, record: Record<string, unknown>): void;
  /** A remark for people, on stderr in both modes, so --json's stdout stays pure. */
  note(text: string): void;
}

export function createOutput(json: boolean): Output {
  return {
    json,
    result(human, record) {
      if (json) process.stdout.write(`${JSON.stringify(record)}\n`);
      else if (human) process.stdout.write(`${human}\n`);
    },
    note(text) {
      process.stderr.write(`${text}\n`);
    },
  };
}
