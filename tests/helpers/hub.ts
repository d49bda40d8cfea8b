import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

/**
 * A model hub on 127.0.0.1 with the hub's URL layout (`/<id>/resolve/<revision>/<file>`) and HTTP
 * Range support, plus the faults a real network has: a connection cut mid-file, a server that
 * ignores Range.
 */
export interface HubRequest {
  path: string;
  range: string | undefined;
}

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
  /** Forget the trickles and stalls set so far. */
  clearFaults(): void;
  close(): Promise<void>;
}

export async function startHub(files: Map<string, Buffer>): Promise<FakeHub> {
  const cuts = new Map<string, number>();
  const trickles = new Map<string, number>();
  const stalls = new Map<string, number>();
  const timers = new Set<NodeJS.Timeout>();
  const hub: Omit<FakeHub, 'url'> & { url: string } = {
    url: '',
    requests: [],
    ignoreRange: false,
    cutNextResponse: (file, afterBytes) => void cuts.set(file, afterBytes),
    trickle: (file, intervalMs) => void trickles.set(file, intervalMs),
    stallAfter: (file, bytes) => void stalls.set(file, bytes),
    clearFaults: () => {
      trickles.clear();
      stalls.clear();
    },
    close: async () => {
      for (const timer of timers) clearInterval(timer);
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
  const server: Server = createServer((request, response) => {
    const urlPath = decodeURIComponent(new URL(request.url ?? '/', 'http://hub').pathname);
    hub.requests.push({ path: urlPath, range: request.headers.range });
    const body = files.get(urlPath);
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
        'content-length': body.length - start,
        'content-range': `bytes ${start}-${body.length - 1}/${body.length}`,
      });
    } else {
      response.writeHead(200, { 'content-length': body.length });
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
