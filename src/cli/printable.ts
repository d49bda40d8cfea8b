/**
 * Text from the input (file names, article ids, a driver's message quoting them) on its way to a
 * terminal. A file named `x\x1b]0;…\x07` or `x\x1b[2J` would otherwise retitle or clear the terminal
 * of whoever runs `newsbridge`; escaped, the name reads as what it is.
 */

/** C0 controls, DEL and C1 controls (a terminal takes U+009B for ESC [): everything a terminal may act on. */
const CONTROL = /\p{Cc}/gu;
/** The same but tab and newline, which lay out a message of several lines. */
const CONTROL_BUT_LAYOUT = /[^\P{Cc}\t\n]/gu;

/**
 * `text` with each control character written as its JSON escape (`\u001b`): readable on a terminal,
 * and inside a JSON line (a log line, a record) the same string as before, so the line stays valid.
 * `oneLine` escapes tab and newline too, for a value that must keep to its line (a file name in a
 * header).
 */
export function printable(text: string, { oneLine = false } = {}): string {
  return text.replace(oneLine ? CONTROL : CONTROL_BUT_LAYOUT, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Writes `text` and a newline, control characters escaped: every message and listing of the CLI goes this way. */
export function writeLine(stream: NodeJS.WritableStream, text: string): void {
  stream.write(`${printable(text)}\n`);
}
