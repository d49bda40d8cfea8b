import type { ServerResponse } from 'node:http';
import zlib from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { PoliteFetcher } from '../../../src/fetch/http/index.js';
import { startServer, type TestServer, testPolicy } from './server.js';

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((item) => item.close()));
});

async function serve(handler: Parameters<typeof startServer>[0]): Promise<TestServer> {
  const server = await startServer(handler);
  open.push(server);
  return server;
}

function fetcher(overrides: Parameters<typeof testPolicy>[0]): PoliteFetcher {
  const created = new PoliteFetcher(testPolicy(overrides));
  open.push(created);
  return created;
}

/** Writes `chunk` for as long as the client keeps reading, counting what was sent; stops when the connection closes. */
function endless(response: ServerResponse, chunk: Buffer, sent: { bytes: number }): void {
  let closed = false;
  response.on('close', () => {
    closed = true;
  });
  const pump = () => {
    while (!closed) {
      sent.bytes += chunk.length;
      if (!response.write(chunk)) {
        response.once('drain', pump);
        return;
      }
    }
  };
  pump();
}

const MiB = 1024 * 1024;

describe('caps', () => {
  it('refuses a 10 GB Content-Length without downloading it', async () => {
    const sent = { bytes: 0 };
    const server = await serve((_request, response) => {
      response.writeHead(200, { 'content-length': String(10 * 1024 ** 3), 'content-type': 'text/html' });
      endless(response, Buffer.alloc(64 * 1024, 0x61), sent);
    });
    const outcome = await fetcher({ maxBytes: MiB }).fetch(`${server.origin}/huge`);
    expect(outcome).toMatchObject({ kind: 'failed', reason: 'too-large' });
    expect(outcome.kind === 'failed' && outcome.message).toMatch(/Content-Length.*fetch\.maxBytes/);
    // Socket buffers hold a few MiB at most; the point is that gigabytes were never sent.
    expect(sent.bytes).toBeLessThan(256 * MiB);
  });

  it('cuts off an endless body without Content-Length once it passes maxBytes', async () => {
    const sent = { bytes: 0 };
    const server = await serve((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/html' });
      endless(response, Buffer.alloc(64 * 1024, 0x61), sent);
    });
    const outcome = await fetcher({ maxBytes: MiB }).fetch(`${server.origin}/endless`);
    expect(outcome).toMatchObject({ kind: 'failed', reason: 'too-large' });
    expect(sent.bytes).toBeLessThan(256 * MiB);
  });

  it.each([
    ['gzip', zlib.gzipSync],
    // Quality 1: the default (11) takes many seconds on 64 MiB, and the bomb need not be small, only smaller than the cap.
    ['br', (input: Buffer) => zlib.brotliCompressSync(input, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 1 } })],
    ['deflate', zlib.deflateSync],
  ] as const)('counts the %s-decoded size: a compression bomb fails past maxBytes', async (encoding, compress) => {
    const bomb = compress(Buffer.alloc(64 * MiB));
    // The bomb itself is small; only its expanded size is over the cap.
    expect(bomb.length).toBeLessThan(MiB);
    const server = await serve((_request, response) => {
      response.writeHead(200, { 'content-encoding': encoding, 'content-length': bomb.length, 'content-type': 'text/html' });
      response.end(bomb);
    });
    expect(await fetcher({ maxBytes: MiB }).fetch(`${server.origin}/bomb`)).toMatchObject({ kind: 'failed', reason: 'too-large' });
  });

  it('decodes a compressed page within the cap', async () => {
    const page = Buffer.from('<html><body>خبر</body></html>'.repeat(100));
    const server = await serve((_request, response) => {
      response.writeHead(200, { 'content-encoding': 'gzip', 'content-type': 'text/html; charset=utf-8' });
      response.end(zlib.gzipSync(page));
    });
    const outcome = await fetcher({ maxBytes: page.length }).fetch(`${server.origin}/page`);
    expect(outcome.kind === 'fetched' && outcome.body.equals(page)).toBe(true);
  });

  it('a server trickling 1 byte a second is cut off at requestSeconds', async () => {
    const sent = { bytes: 0 };
    const server = await serve((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/html', 'content-length': 1000 });
      const timer = setInterval(() => {
        sent.bytes++;
        response.write('a');
      }, 1000);
      response.on('close', () => clearInterval(timer));
    });
    const outcome = await fetcher({ requestSeconds: 3, firstByteSeconds: 3 }).fetch(`${server.origin}/slow`);
    expect(outcome).toMatchObject({ kind: 'failed', reason: 'timeout' });
    expect(outcome.kind === 'failed' && outcome.message).toMatch(/fetch\.requestSeconds/);
    expect(sent.bytes).toBeLessThan(1000);
  });

  it('a server that never sends headers is cut off at firstByteSeconds', async () => {
    const server = await serve(() => {
      // Holds the request open without answering.
    });
    const outcome = await fetcher({ firstByteSeconds: 1, requestSeconds: 600 }).fetch(`${server.origin}/silent`);
    expect(outcome).toMatchObject({ kind: 'failed', reason: 'timeout' });
    expect(outcome.kind === 'failed' && outcome.message).toMatch(/fetch\.firstByteSeconds/);
  });
});
