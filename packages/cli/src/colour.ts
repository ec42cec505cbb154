/**
 * Colour only for a person at a terminal: never in a pipe or a file, never with NO_COLOR set
 * (no-color.org: any non-empty value), always with FORCE_COLOR set (other than 0 or false).
 */
export function colourEnabled(stream: { isTTY?: boolean } = process.stdout): boolean {
  const { NO_COLOR, FORCE_COLOR, TERM } = process.env;
  if (NO_COLOR) return false;
  if (FORCE_COLOR !== undefined && FORCE_COLOR !== '') return FORCE_COLOR !== '0' && FORCE_COLOR !== 'false';
  return Boolean(stream.isTTY) && TERM !== 'dumb';
}

export interface Paint {
  bold(text: string): string;
  dim(text: string): string;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  cyan(text: string): string;
}

const sgr = (on: number, off: number) => (text: string) => `\x1b[${on}m${text}\x1b[${off}m`;
const plain = (text: string) => text;

export function paintFor(enabled: boolean): Paint {
  if (!enabled) return { bold: plain, dim: plain, red: plain, green: plain, yellow: plain, cyan: plain };
  return {
    bold: sgr(1, 22),
    dim: sgr(2, 22),
    red: sgr(31, 39),
    green: sgr(32, 39),
    yellow: sgr(33, 39),
    cyan: sgr(36, 39),
  };
}

/** Colours for what goes to stdout, decided once per process. */
export const paint: Paint = paintFor(colourEnabled());
/** Colours for stderr (errors, notes), which may be a terminal while stdout is a pipe. */
export const paintErr: Paint = paintFor(colourEnabled(process.stderr));
