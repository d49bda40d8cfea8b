import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, test, vi } from 'vitest';
import { type ServeProcess, startServe } from '../../tools/serve-process.js';
import { type RunningServer, startServer } from './server.js';

async function post(server: RunningServer, route: string, body: object): Promise<Response> {
  return fetch(server.url + route, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

async function healthy(server: RunningServer): Promise<void> {
  expect(await (await fetch(`${server.url}/health`)).json()).toEqual({ status: 'ok' });
}

/** A raw TCP connection to the server that keeps writing `next()` until the server closes it. */
function trickle(server: RunningServer, first: string, next: () => string): Promise<string> {
  const { port } = new URL(server.url);
  return new Promise((resolve) => {
    const socket: Socket = connect(Number(port), '127.0.0.1');
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      answer += chunk;
    });
    socket.on('error', () => undefined);
    socket.write(first);
    // A write every 100 ms keeps the connection busy, so only the server's protocol timeouts can end it.
    const timer = setInterval(() => {
      if (!socket.destroyed) socket.write(next());
    }, 100);
    socket.on('close', () => {
      clearInterval(timer);
      resolve(answer);
    });
  });
}

describe('slow clients are cut off by serve.headersTimeoutSeconds and serve.requestTimeoutSeconds', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer(inject('modelsDir'), { serve: { headersTimeoutSeconds: 1, requestTimeoutSeconds: 2 } });
  });
  afterAll(async () => server?.close());

  test('a never-ending chunked body: the server closes the connection and still answers /health', async () => {
    const head = 'POST /translate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n';
    const answer = await trickle(server, `${head}1\r\n[\r\n`, () => '2\r\n"a\r\n');
    expect(answer).not.toMatch(/^HTTP\/1\.1 200/);
    await healthy(server);
  });

  test('slowloris headers, one header line at a time, never ending: the server closes the connection', async () => {
    let n = 0;
    const answer = await trickle(server, 'GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n', () => `X-Slow-${n++}: a\r\n`);
    expect(answer).not.toMatch(/^HTTP\/1\.1 200/);
    await healthy(server);
  });
});

describe('keys and limits', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer(inject('modelsDir'), {
      keys: ['good-key'],
      serve: { requireKey: true, requestsPerMinute: 3, maxPendingSentences: 1 },
    });
  });
  afterAll(async () => server?.close());

  test('with serve.requireKey a missing key is a 400, a wrong key a 403, a good key a 200', async () => {
    const missing = await post(server, '/detect', { q: 'Xin chào thế giới' });
    expect(missing.status).toBe(400);
    expect(await missing.json()).toEqual({ error: 'Please contact the server operator to get an API key' });
    const wrong = await post(server, '/detect', { q: 'Xin chào thế giới', api_key: 'bad-key' });
    expect(wrong.status).toBe(403);
    expect(await wrong.json()).toEqual({ error: 'Invalid API key' });
    expect((await post(server, '/detect', { q: 'Xin chào thế giới', api_key: 'good-key' })).status).toBe(200);
  });

  test('a full sentence queue (serve.maxPendingSentences) is a 503 with Retry-After; the server takes work again after', async () => {
    // One sentence held in the server's own queue, as a request being translated would hold it.
    let release: () => void = () => undefined;
    const holding = server.engine.admission.hold(1, () => new Promise<void>((resolve) => (release = resolve)));
    const full = await post(server, '/translate', { q: 'Xin chào thế giới', source: 'vi', target: 'en', api_key: 'good-key' });
    expect(full.status).toBe(503);
    expect(Number(full.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await full.json()).error).toMatch(/maxPendingSentences/);
    release();
    await holding;
    expect((await post(server, '/translate', { q: 'Xin chào', source: 'vi', target: 'en', api_key: 'good-key' })).status).toBe(200);
  });

  test('past serve.requestsPerMinute a key gets a 429 with Retry-After; other routes still answer', async () => {
    // Earlier tests in this block spent some of the key's minute; keep asking until the limit is reached.
    let answer = await post(server, '/detect', { q: 'Xin chào', api_key: 'good-key' });
    for (let i = 0; i < 3 && answer.status !== 429; i++) answer = await post(server, '/detect', { q: 'Xin chào', api_key: 'good-key' });
    expect(answer.status).toBe(429);
    expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await answer.json()).error).toMatch(/^Slowdown/);
    await healthy(server);
  });
});

describe('SIGTERM', () => {
  let dir: string;
  let server: ServeProcess | undefined;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'nb-serve-term-'));
  });
  afterAll(() => {
    if (server?.child.exitCode === null) server.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  test('the CLI stops accepting, finishes the request in flight and exits 0', async () => {
    const config = path.join(dir, 'pipeline.yaml');
    writeFileSync(config, 'translation:\n  workers: 1\n  numBeams: 1\n');
    server = await startServe({ config, modelsDir: inject('modelsDir') });
    const { waitFor } = server;
    const port = Number(new URL(server.url).port);

    // The request is in flight once the server has read its headers: it says so with 100 Continue.
    const body = JSON.stringify({ q: 'Xin chào thế giới', source: 'vi', target: 'en' });
    const socket = connect(port, '127.0.0.1');
    socket.setEncoding('utf8');
    let answer = '';
    const continued = new Promise<void>((resolve) =>
      socket.on('data', (chunk: string) => {
        answer += chunk;
        if (answer.includes('100 Continue')) resolve();
      }),
    );
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.write(
      `POST /translate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        'Expect: 100-continue\r\nConnection: close\r\n\r\n',
    );
    await continued;
    const draining = waitFor(/SIGTERM: finishing the requests in flight/);
    server.child.kill('SIGTERM');
    await draining;
    // No new connection is accepted while the request in flight finishes.
    await expect(fetch(`http://127.0.0.1:${port}/health`)).rejects.toThrow();
    socket.write(body);
    await closed;
    expect(answer).toMatch(/HTTP\/1\.1 200 OK/);
    expect(answer).toContain('"translatedText"');
    expect((await server.done).code).toBe(0);
  });
});

describe("the server's memory", () => {
  let dir: string;
  let server: ServeProcess | undefined;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'nb-serve-rss-'));
  });
  afterAll(async () => {
    server?.child.kill('SIGTERM');
    await server?.done;
    rmSync(dir, { recursive: true, force: true });
  });

  test('20 bodies of 50 MB and 20 arrays of 10,000 items leave the RSS of the serve process far below what they carry', async () => {
    const config = path.join(dir, 'pipeline.yaml');
    writeFileSync(config, 'translation:\n  workers: 1\n  numBeams: 1\n');
    server = await startServe({ config, modelsDir: inject('modelsDir') });
    const url = `${server.url}/translate`;
    const rss = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${server!.child.pid}/status`, 'utf8'))?.[1]) * 1024;
    const json = { 'content-type': 'application/json' };
    expect(
      (await fetch(url, { method: 'POST', headers: json, body: JSON.stringify({ q: 'Xin chào', source: 'vi', target: 'en' }) })).status,
    ).toBe(200);
    const before = rss();
    let carried = 0;
    const megabyte = new Uint8Array(1_000_000).fill(97);
    for (let i = 0; i < 20; i++) {
      // Streamed, so the client never holds 50 MB; the server cuts it off at serve.bodyLimitBytes.
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent++ < 50) controller.enqueue(megabyte);
          else controller.close();
        },
      });
      const answer = await fetch(url, { method: 'POST', headers: json, body, duplex: 'half' } as RequestInit).catch(() => null);
      if (answer) expect(answer.status).toBe(413);
      const items = JSON.stringify({ q: Array(10_000).fill('x'.repeat(150)), source: 'vi', target: 'en' });
      expect((await fetch(url, { method: 'POST', headers: json, body: items })).status).toBe(400);
      carried += 50_000_000 + items.length;
    }
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    // Over a gigabyte sent; what stays is garbage the collector has not taken yet, a small part of it.
    expect(rss() - before).toBeLessThan(carried / 8);
  }, 120_000);
});

describe('a request past serve.requestTimeoutSeconds', () => {
  let server: RunningServer;
  beforeAll(async () => {
    // A deadline shorter than the headers timeout is allowed (Node's own rule would refuse it).
    server = await startServer(inject('modelsDir'), {
      translation: { numBeams: 4 },
      serve: { requestTimeoutSeconds: 1, headersTimeoutSeconds: 10, maxPendingSentences: 100_000, charsPerMinute: 100_000_000 },
    });
  });
  afterAll(async () => server?.close());

  test('gets the deadline 503 (never a connection cut without an answer), and its queued sentences leave the queue', async () => {
    const text = Array(12).fill('Bộ trưởng cho biết cuộc họp sẽ diễn ra vào ngày mai tại thủ đô.').join(' ');
    const answers = await Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        const q = Array.from({ length: 100 }, (_, k) => `${text} ${i}-${k}`);
        const answer = await post(server, '/translate', { q, source: 'vi', target: 'en' });
        return { status: answer.status, body: (await answer.json()) as { error?: string } };
      }),
    );
    for (const { status, body } of answers) {
      expect([200, 503]).toContain(status);
      if (status === 503) expect(body.error).toBe('Request timed out after 1 s (serve.requestTimeoutSeconds); try again later');
    }
    await vi.waitFor(() => expect(server.engine.admission.pending).toBe(0), { timeout: 60_000, interval: 100 });
    await healthy(server);
  }, 120_000);
});
