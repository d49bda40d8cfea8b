/** A real HTTP server on a loopback address for the fetcher's tests, recording when each request started and ended. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FetchPolicy } from '../../../src/fetch/http/index.js';

export interface Visit {
  path: string;
  headers: http.IncomingHttpHeaders;
  /** The server's address the request came in on. */
  localAddress: string | undefined;
  started: number;
  /** When the response finished or the connection closed. */
  ended?: number;
}

export interface TestServer {
  origin: string;
  port: number;
  visits: Visit[];
  /** Visits to `path` (robots.txt excluded unless asked for). */
  visitsTo(path: string): Visit[];
  close(): Promise<void>;
}

export type Handler = (request: http.IncomingMessage, response: http.ServerResponse) => void;

/** Answers /robots.txt with `robots` (a body, or a bare status; 404 when undefined) and everything else with `handler`. */
export async function startServer(handler: Handler, options: { robots?: string | number; host?: string } = {}): Promise<TestServer> {
  const visits: Visit[] = [];
  const server = http.createServer((request, response) => {
    const visit: Visit = {
      path: request.url ?? '',
      headers: request.headers,
      localAddress: request.socket.localAddress,
      started: Date.now(),
    };
    visits.push(visit);
    response.on('close', () => {
      visit.ended = Date.now();
    });
    if (request.url === '/robots.txt') {
      const { robots } = options;
      response.writeHead(typeof robots === 'string' ? 200 : (robots ?? 404), { 'content-type': 'text/plain' });
      response.end(typeof robots === 'string' ? robots : 'no robots.txt');
      return;
    }
    handler(request, response);
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://${host}:${port}`,
    port,
    visits,
    visitsTo: (path) => visits.filter((visit) => visit.path === path),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A policy for reaching loopback test servers quickly; tests override what they exercise. */
export function testPolicy(overrides: Partial<FetchPolicy> = {}): FetchPolicy {
  return {
    userAgent: 'newsbridge/0.1.0 (+https://example.test/contact)',
    allowPrivateAddresses: true,
    maxBytes: 1024 * 1024,
    firstByteSeconds: 10,
    requestSeconds: 20,
    maxRedirects: 5,
    minDelaySeconds: 0,
    retries: 0,
    ...overrides,
  };
}
