import { spawn } from 'node:child_process';
import path from 'node:path';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOutput {
  /** A file descriptor for the CLI's stdout (e.g. /dev/full opened for writing) instead of a pipe read into `stdout`. */
  stdoutFd?: number;
  /**
   * Close the reading end of stdout as `| head -1` does: after its first chunk, or before stdin is
   * given (so the command's first write already finds no reader, however fast it is).
   */
  closeStdout?: 'after-first-chunk' | 'before-input';
}

const cli = path.resolve('src/cli/index.ts');

/** Runs `newsbridge <args>` through tsx with `input` on stdin. */
export function runCli(args: string[], input = '', output: CliOutput = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', cli, ...args], { stdio: ['pipe', output.stdoutFd ?? 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      if (output.closeStdout === 'after-first-chunk') child.stdout?.destroy();
    });
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    // A CLI that stopped early (its output closed) stops reading its input too.
    child.stdin!.on('error', () => undefined);
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    if (output.closeStdout === 'before-input') {
      child.stdout?.once('close', () => child.stdin!.end(input));
      child.stdout?.destroy();
    } else {
      child.stdin!.end(input);
    }
  });
}
