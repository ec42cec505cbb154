/**
 * Text from a task or a finding (a summary, a handler's error) as it may go to a terminal: control
 * characters, which could move the cursor, rewrite earlier lines or change the terminal's title,
 * are shown escaped (`\x1b`) instead of sent. Line breaks and tabs are kept.
 */
export function printable(text: string): string {
  let out = '';
  for (const c of text) {
    const code = c.charCodeAt(0);
    const control = (code < 0x20 && c !== '\n' && c !== '\t') || (code >= 0x7f && code <= 0x9f);
    out += control ? `\\x${code.toString(16).padStart(2, '0')}` : c;
  }
  return out;
}
