import { afterEach } from 'vitest';
import { PoliteFetcher } from '../../../src/fetch/http/index.js';
import { startServer, type TestServer } from './server.js';

/** Servers and fetchers a test opened, closed after it whatever its outcome. */
const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((item) => item.close()));
});

export async function serve(...args: Parameters<typeof startServer>): Promise<TestServer> {
  const server = await startServer(...args);
  open.push(server);
  return server;
}

export function fetcher(...args: ConstructorParameters<typeof PoliteFetcher>): PoliteFetcher {
  const created = new PoliteFetcher(...args);
  open.push(created);
  return created;
}
