import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * The path of a worker script that sits beside `moduleUrl` (pass `import.meta.url`), with the caller's
 * own extension: `.js` when built, `.ts` when run from the sources.
 */
export function workerScriptBeside(moduleUrl: string, name: string): string {
  const here = fileURLToPath(moduleUrl);
  return path.join(path.dirname(here), `${name}${path.extname(here)}`);
}

/**
 * Starts a worker thread on `file`. From TypeScript sources (tsx, vitest) it registers tsx in the thread
 * first: Node 20 cannot load a `.ts` worker script by itself.
 */
export function startWorkerScript(file: string, options: Omit<WorkerOptions, 'eval'> = {}): Worker {
  if (file.endsWith('.js')) return new Worker(file, options);
  // Resolved here, from this file, so the worker finds tsx whatever the working directory.
  const tsx = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(pathToFileURL(file).href)}); })`;
  return new Worker(bootstrap, { ...options, eval: true });
}
