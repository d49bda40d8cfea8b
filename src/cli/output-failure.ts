/**
 * What a command does when its output cannot be written. A reader that went away (`| head -1`,
 * EPIPE) ends it quietly with 141, as SIGPIPE ends a C program; any other failure (a full disk,
 * ENOSPC) is said in one line, and it exits 1. Without this, Node throws the stream's 'error' event
 * and prints a stack trace.
 */
import { writeLine } from './printable.js';

/** The exit code of a command whose reader closed its output (128 + SIGPIPE). */
export const EXIT_PIPE_CLOSED = 141;

/** How writing to an output failed: a closed pipe says nothing; anything else a one-line `message`. */
export interface OutputFailure {
  exitCode: number;
  message: string | null;
}

const FIXES: Record<string, string> = {
  ENOSPC: 'no space left on the device (ENOSPC); free some space or send the output elsewhere',
  EDQUOT: 'the disk quota is used up (EDQUOT); free some space or send the output elsewhere',
};

/** The failure of writing to `destination` (`stdout`, or a file name). */
export function outputFailure(error: NodeJS.ErrnoException, destination: string): OutputFailure {
  if (error.code === 'EPIPE') return { exitCode: EXIT_PIPE_CLOSED, message: null };
  // Node's own message names the code (`EIO: i/o error, write`).
  return { exitCode: 1, message: `cannot write to ${destination}: ${FIXES[error.code ?? ''] ?? error.message}` };
}

/** Calls `onFailure` once, when writing to `stream` first fails; later errors of the dead stream are the same failure. */
export function onOutputFailure(stream: NodeJS.WritableStream, destination: string, onFailure: (failure: OutputFailure) => void): void {
  let failed = false;
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (failed) return;
    failed = true;
    onFailure(outputFailure(error, destination));
  });
}

/** For a command whose output is only its results: when stdout fails, stop at once (`command` names it in the message). */
export function exitOnStdoutFailure(command: string): void {
  onOutputFailure(process.stdout, 'stdout', ({ exitCode, message }) => {
    if (message) writeLine(process.stderr, `newsbridge ${command}: ${message}`);
    process.exit(exitCode);
  });
}

/** When stderr fails, nobody reads the messages: stop at once, saying nothing (141 for a closed pipe). */
export function exitOnStderrFailure(): void {
  onOutputFailure(process.stderr, 'stderr', ({ exitCode }) => process.exit(exitCode));
}
