import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

/**
 * A model hub on 127.0.0.1 with the hub's URL layout (`/<id>/resolve/<revision>/<file>`) and HTTP
 * Range support, plus the faults a real network has: a connection cut mid-file, a server that
 * ignores Range.
 */
/**
 * Files that pass the store's format checks without being a real model: JSON for `.json`, and for
 * `.onnx` a protobuf with an IR version (field 1) and a "graph" (field 7) of `size` random bytes.
 */
export function plausibleModelFile(file: string, size: number): Buffer {
  if (file.endsWith('.json')) return Buffer.from(JSON.stringify({ file, padding: randomBytes(size).toString('hex') }));
  const length: number[] = [];
  for (let rest = size; ; rest >>>= 7) {
    if (rest < 0x80) {
      length.push(rest);
      break;
    }
    length.push((rest & 0x7f) | 0x80);
  }
  return Buffer.concat([Buffer.from([0x08, 0x08, 0x3a, ...length]), randomBytes(size)]);
}

export interface HubRequest {
  path: string;
  range: string | undefined;
  /** `Date.now()` when the request arrived, to measure the waits between retries. */
  at: number;
}

/** A canned answer: a status with headers and body, or `reset` (the connection dropped before any answer). */
export type HubAnswer = { status: number; headers?: Record<string, string>; body?: string } | 'reset';

export interface FakeHub {
  url: string;
  requests: HubRequest[];
  /** Cut the connection after this many bytes the next time the file is served. */
  cutNextResponse(file: string, afterBytes: number): void;
  /** Answer 200 with the whole file even when a Range is asked for. */
  ignoreRange: boolean;
  /** Serve the file one byte every `intervalMs`, as a mirror at the end of a bad link does. */
  trickle(file: string, intervalMs: number): void;
  /** Send this many bytes of the file, then nothing more, keeping the connection open. */
  stallAfter(file: string, bytes: number): void;
  /**
   * Give the next requests for this path (a resolve path, or an API path `/api/models/<id>/revision/<rev>`)
   * these answers, one each in order; later requests are served as usual.
   */
  answerNext(path: string, answers: HubAnswer[]): void;
  /** Forget the trickles, stalls, corruptions and canned answers set so far, and publish metadata again. */
  clearFaults(): void;
  /** Serve the file with some bytes flipped (same length), while the API publishes the real ones. */
  corrupt(file: string): void;
  /** Answer the file with an HTML error page and status 200, as a misconfigured proxy does. */
  serveHtml(file: string): void;
  /** Serve the hub's API (`/api/models/<id>/revision/<rev>`: siblings with size and, for `.onnx`, LFS sha256). */
  publishApi: boolean;
  /** Send the resolve headers `X-Linked-Size`/`X-Linked-Etag` with `.onnx` files. Both false: a plain file mirror. */
  publishHeaders: boolean;
  /** Requests to the API, kept apart from `requests`. */
  apiRequests: string[];
  /** Each model's card metadata (`cardData`, such as `{ license: 'cc-by-nc-4.0' }`) in its API answer; none by default. */
  cards: Map<string, Record<string, unknown>>;
  close(): Promise<void>;
}

export async function startHub(files: Map<string, Buffer>): Promise<FakeHub> {
  const cuts = new Map<string, number>();
  const trickles = new Map<string, number>();
  const corrupted = new Set<string>();
  const html = new Set<string>();
  const stalls = new Map<string, number>();
  const timers = new Set<NodeJS.Timeout>();
  const canned = new Map<string, HubAnswer[]>();
  /** Sends the next canned answer for the path, if there is one; says whether it did. */
  const answerCanned = (urlPath: string, response: ServerResponse): boolean => {
    const answer = canned.get(urlPath)?.shift();
    if (answer === undefined) return false;
    if (answer === 'reset') response.socket?.destroy();
    else response.writeHead(answer.status, answer.headers).end(answer.body ?? '');
    return true;
  };
  const hub: Omit<FakeHub, 'url'> & { url: string } = {
    url: '',
    requests: [],
    ignoreRange: false,
    cutNextResponse: (file, afterBytes) => void cuts.set(file, afterBytes),
    trickle: (file, intervalMs) => void trickles.set(file, intervalMs),
    stallAfter: (file, bytes) => void stalls.set(file, bytes),
    answerNext: (file, answers) => void canned.set(file, [...answers]),
    clearFaults: () => {
      canned.clear();
      trickles.clear();
      stalls.clear();
      corrupted.clear();
      html.clear();
      hub.publishApi = true;
      hub.publishHeaders = true;
    },
    corrupt: (file) => void corrupted.add(file),
    serveHtml: (file) => void html.add(file),
    publishApi: true,
    publishHeaders: true,
    apiRequests: [],
    cards: new Map(),
    close: async () => {
      for (const timer of timers) clearInterval(timer);
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
  const server: Server = createServer((request, response) => {
    const urlPath = decodeURIComponent(new URL(request.url ?? '/', 'http://hub').pathname);
    const api = /^\/api\/models\/(.+)\/revision\/([^/]+)$/.exec(urlPath);
    if (api) {
      hub.apiRequests.push(urlPath);
      if (answerCanned(urlPath, response)) return;
      const prefix = `/${api[1]}/resolve/${api[2]}/`;
      const siblings = [...files]
        .filter(([key]) => key.startsWith(prefix))
        .map(([key, bytes]) => {
          const rfilename = key.slice(prefix.length);
          const sha256 = createHash('sha256').update(bytes).digest('hex');
          return {
            rfilename,
            size: bytes.length,
            ...(rfilename.endsWith('.onnx') ? { lfs: { sha256, size: bytes.length, pointerSize: 134 } } : {}),
          };
        });
      if (!hub.publishApi || siblings.length === 0) response.writeHead(404).end('{"error":"Repository not found"}');
      else
        response
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ id: api[1], cardData: hub.cards.get(api[1]!), siblings }));
      return;
    }
    hub.requests.push({ path: urlPath, range: request.headers.range, at: Date.now() });
    if (answerCanned(urlPath, response)) return;
    if (html.has(urlPath)) {
      response.writeHead(200, { 'content-type': 'text/html' }).end('<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>');
      return;
    }
    const original = files.get(urlPath);
    const linked =
      original && hub.publishHeaders && urlPath.endsWith('.onnx')
        ? { 'x-linked-size': original.length, 'x-linked-etag': `"${createHash('sha256').update(original).digest('hex')}"` }
        : {};
    let body = original;
    if (original && corrupted.has(urlPath)) {
      body = Buffer.from(original);
      for (let at = Math.floor(body.length / 3); at < body.length; at += 997) body[at] = body[at]! ^ 0xff;
    }
    if (!body) {
      response.writeHead(404, 'Not Found').end('Entry not found');
      return;
    }
    let start = 0;
    const range = /^bytes=(\d+)-$/.exec(request.headers.range ?? '');
    if (range && !hub.ignoreRange) {
      start = Number(range[1]);
      if (start >= body.length) {
        response.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
        return;
      }
      response.writeHead(206, {
        ...linked,
        'content-length': body.length - start,
        'content-range': `bytes ${start}-${body.length - 1}/${body.length}`,
      });
    } else {
      response.writeHead(200, { ...linked, 'content-length': body.length });
    }
    const trickle = trickles.get(urlPath);
    if (trickle !== undefined) {
      let at = start;
      const timer = setInterval(() => {
        if (at >= body.length || response.destroyed) {
          clearInterval(timer);
          timers.delete(timer);
          if (!response.destroyed) response.end();
          return;
        }
        response.write(body.subarray(at, at + 1));
        at += 1;
      }, trickle);
      timers.add(timer);
      return;
    }
    const stall = stalls.get(urlPath);
    if (stall !== undefined) {
      response.write(body.subarray(start, start + stall));
      return;
    }
    const cut = cuts.get(urlPath);
    if (cut !== undefined) {
      cuts.delete(urlPath);
      // A clean close (FIN) after the bytes, as when a proxy or network drops a long download.
      response.write(body.subarray(start, start + cut), () => response.socket?.end());
      return;
    }
    response.end(body.subarray(start));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  hub.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return hub;
}

/** Serves the files of a model folder as `<id>` at `<revision>`. */
export async function modelFolderFiles(dir: string, id: string, revision: string, files: string[]): Promise<Map<string, Buffer>> {
  const served = new Map<string, Buffer>();
  for (const file of files) served.set(`/${id}/resolve/${revision}/${file}`, await readFile(path.join(dir, file)));
  return served;
}
