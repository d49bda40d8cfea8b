import { createInterface } from 'node:readline';
import { type StartedRun, startNewsbridge } from './newsbridge-process.js';

/**
 * `newsbridge serve` in a process of its own, as an operator starts it (the CLI, on a free port of
 * 127.0.0.1, offline, without the translation memory): bench:serve loads it, the SIGTERM test stops it.
 */
export interface ServeProcess extends StartedRun {
  url: string;
  /** Resolves with the first line the server writes to stderr from now on that matches. */
  waitFor(pattern: RegExp): Promise<RegExpMatchArray>;
}

export interface ServeProcessOptions {
  config: string;
  modelsDir: string;
  /** More `serve` flags (`--no-shared-batches`). */
  flags?: readonly string[];
  /** Each other line the server writes to stderr (its warnings). */
  onLine?: (line: string) => void;
}

/** Starts the server and resolves once it listens; rejects, with what it wrote, when it exits before. */
export async function startServe(options: ServeProcessOptions): Promise<ServeProcess> {
  const args = ['serve', '--config', options.config, '--port', '0', '--models-dir', options.modelsDir, '--offline', '--no-cache'];
  const run = startNewsbridge([...args, ...(options.flags ?? [])]);
  const lines = createInterface({ input: run.child.stderr! });
  const waitFor = (pattern: RegExp) =>
    new Promise<RegExpMatchArray>((resolve) => {
      const onLine = (line: string) => {
        const match = pattern.exec(line);
        if (!match) return;
        lines.off('line', onLine);
        resolve(match);
      };
      lines.on('line', onLine);
    });
  const listening = waitFor(/listening on (http:\/\/\S+)/);
  if (options.onLine) lines.on('line', (line) => (/listening on/.test(line) ? undefined : options.onLine!(line)));
  const exited = run.done.then((result) => {
    throw new Error(`newsbridge serve exited (${result.code ?? result.signal}) before listening: ${result.stderr.trim()}`);
  });
  exited.catch(() => undefined);
  const url = (await Promise.race([listening, exited]))[1]!;
  return { ...run, url, waitFor };
}
