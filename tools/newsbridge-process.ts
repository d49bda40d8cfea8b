import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { repoRoot } from './repo-root.js';

/**
 * Runs the `newsbridge` CLI as a child process, the way a nightly job does, and measures it: wall
 * time and peak resident memory. The crash harness and the benches use it to start, kill and time
 * real runs.
 */

const cli = path.join(repoRoot, 'src', 'cli', 'index.ts');

export interface NewsbridgeRun {
  /** Exit code, or null when a signal ended the process. */
  code: number | null;
  signal: NodeJS.Signals | null;
  wallMs: number;
  /** Peak resident set size (VmHWM), sampled from /proc while the process runs; 0 where there is no /proc. */
  peakRssBytes: number;
  stdout: string;
  stderr: string;
}

export interface StartedRun {
  child: ChildProcess;
  /** Settles when the process has exited. */
  done: Promise<NewsbridgeRun>;
}

export interface StartOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /**
   * In a process group of its own: a test that stops it (SIGSTOP) keeps job control's side effects
   * (SIGHUP to a stopped, orphaned group) away from the caller's group.
   */
  detached?: boolean;
}

/** Starts `newsbridge <args>` (through tsx, from the sources) in `cwd`. */
export function startNewsbridge(args: readonly string[], options: StartOptions = {}): StartedRun {
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', cli, ...args], {
    cwd: options.cwd ?? repoRoot,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.detached ?? false,
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  let peakRssBytes = 0;
  const sample = () => (peakRssBytes = Math.max(peakRssBytes, peakRssOf(child.pid)));
  const sampler = setInterval(sample, 50);
  const done = new Promise<NewsbridgeRun>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearInterval(sampler);
      // Let the pipes drain before handing over the output.
      child.once('close', () => resolve({ code, signal, wallMs: performance.now() - started, peakRssBytes, stdout, stderr }));
    });
  });
  return { child, done };
}

export function runNewsbridge(args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<NewsbridgeRun> {
  return startNewsbridge(args, options).done;
}

/** VmHWM of a live process, in bytes; 0 when it has exited or /proc is not there. */
function peakRssOf(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = /^VmHWM:\s+(\d+) kB/m.exec(status)?.[1];
    return kib === undefined ? 0 : Number(kib) * 1024;
  } catch {
    return 0;
  }
}

export interface RunConfig {
  inputDir: string;
  out: string;
  cache: string;
  modelsDir: string;
  /** The translation memory; on unless a bench measures the models themselves. */
  cacheEnabled?: boolean;
  dtype?: 'q8' | 'fp32';
}

/** Writes a pipeline.yaml for a harness or bench run: its own input, output, cache and models, no downloads. */
export function writeRunConfig(file: string, run: RunConfig): void {
  const config = {
    input: { patterns: [`${run.inputDir}/**/*.txt`] },
    output: { dir: run.out },
    translation: { modelsDir: run.modelsDir, download: false, ...(run.dtype ? { dtype: run.dtype } : {}) },
    cache: { path: run.cache, enabled: run.cacheEnabled ?? true },
  };
  writeFileSync(file, stringify(config));
}
