/**
 * One HTTP exchange (one hop: no redirects, no retries) over undici, with the caps: time to headers,
 * total time, and the body's decoded size counted while it streams, so a gzip bomb or a 10 GB body is
 * cut off after `maxBytes` rather than buffered.
 */
import type { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { MIMEType } from 'node:util';
import zlib from 'node:zlib';
import { Agent, request } from 'undici';
import { type AddressPolicy, addressAllowed, guardedLookup, ipLiteral, PrivateAddressError } from './address-guard.js';
import type { Conditional, FetchFailureReason, FetchPolicy, LookupFunction } from './types.js';

export type HopResult =
  | { kind: 'response'; status: number; headers: Record<string, string>; body: Buffer }
  | { kind: 'failed'; reason: FetchFailureReason; message: string; status?: number; retryable: boolean };

class TooLargeError extends Error {}
class UnsupportedEncodingError extends Error {}

export function createAgent(policy: FetchPolicy, addresses: AddressPolicy, lookup?: LookupFunction): Agent {
  return new Agent({
    // net/tls.connect use this lookup, so the address checked is the address connected to.
    connect: { lookup: guardedLookup(addresses, lookup), timeout: policy.firstByteSeconds * 1000 } as Agent.Options['connect'],
    headersTimeout: policy.firstByteSeconds * 1000,
    bodyTimeout: policy.requestSeconds * 1000,
  });
}

export interface ExchangeContext {
  policy: FetchPolicy;
  addresses: AddressPolicy;
  agent: Agent;
}

/** GETs `url` once. Bodies are read for 2xx only (a redirect's or an error's body is discarded unread). */
export async function exchange(url: URL, context: ExchangeContext, conditional?: Conditional, signal?: AbortSignal): Promise<HopResult> {
  const { policy } = context;
  const literal = ipLiteral(url.hostname);
  // net.connect skips the lookup for an IP literal, so it is checked here.
  if (literal !== undefined && !addressAllowed(literal, context.addresses)) {
    return { kind: 'failed', reason: 'private-address', message: new PrivateAddressError(url.hostname, literal).message, retryable: false };
  }
  const deadline = AbortSignal.timeout(policy.requestSeconds * 1000);
  const combined = signal ? AbortSignal.any([deadline, signal]) : deadline;
  try {
    const response = await request(url, {
      method: 'GET',
      dispatcher: context.agent,
      signal: combined,
      headers: requestHeaders(policy, conditional),
    });
    const headers = flatHeaders(response.headers);
    if (response.statusCode < 200 || response.statusCode >= 300) {
      discard(response.body);
      return { kind: 'response', status: response.statusCode, headers, body: Buffer.alloc(0) };
    }
    const declared = Number(headers['content-length']);
    if (Number.isFinite(declared) && declared > policy.maxBytes) {
      discard(response.body);
      return tooLarge(url, policy, `declares ${declared} bytes (Content-Length)`);
    }
    const body = await readCapped(response.body, headers['content-encoding'], policy.maxBytes, combined);
    return { kind: 'response', status: response.statusCode, headers, body };
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    return failure(url, policy, error, deadline.aborted);
  }
}

function requestHeaders(policy: FetchPolicy, conditional?: Conditional): Record<string, string> {
  const headers: Record<string, string> = { 'user-agent': policy.userAgent, 'accept-encoding': 'gzip, deflate, br', accept: '*/*' };
  if (conditional?.etag) headers['if-none-match'] = conditional.etag;
  if (conditional?.lastModified) headers['if-modified-since'] = conditional.lastModified;
  return headers;
}

function flatHeaders(raw: Record<string, string | string[] | undefined>): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

/** Decoders for a Content-Encoding list, in the order to apply them (the last coding applied is undone first). */
function decoders(encoding: string | undefined): Transform[] {
  const codings = (encoding ?? '')
    .split(',')
    .map((coding) => coding.trim().toLowerCase())
    .filter((coding) => coding && coding !== 'identity')
    .reverse();
  return codings.map((coding) => {
    if (coding === 'gzip' || coding === 'x-gzip') return zlib.createGunzip();
    if (coding === 'br') return zlib.createBrotliDecompress();
    if (coding === 'deflate') return zlib.createInflate();
    throw new UnsupportedEncodingError(`unsupported Content-Encoding "${coding}" (newsbridge asks for gzip, deflate or br)`);
  });
}

async function readCapped(body: Readable, encoding: string | undefined, maxBytes: number, signal: AbortSignal): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  const collect = async (source: AsyncIterable<Buffer>) => {
    for await (const chunk of source) {
      size += chunk.length;
      // Counted after decoding, so the cap is on the expanded size; throwing destroys every stream of the pipeline.
      if (size > maxBytes) throw new TooLargeError();
      chunks.push(chunk);
    }
  };
  let stages: Transform[];
  try {
    stages = decoders(encoding);
  } catch (error) {
    discard(body);
    throw error;
  }
  // pipeline's overloads take a fixed number of stages; the decoders vary with the Content-Encoding.
  try {
    await (pipeline as (...streams: unknown[]) => Promise<void>)(body, ...stages, collect, { signal });
  } catch (error) {
    // A decoder torn down mid-chunk may reject with its own error rather than the cap's.
    if (size > maxBytes) throw new TooLargeError();
    throw error;
  }
  return Buffer.concat(chunks, size);
}

/** Drops a body unread; undici reports the destruction as an error event, which is expected here. */
function discard(body: Readable): void {
  body.on('error', () => {});
  body.destroy();
}

function tooLarge(url: URL, policy: FetchPolicy, detail: string): HopResult {
  const message = `${url.href} ${detail}, over the cap of ${policy.maxBytes} bytes (fetch.maxBytes)`;
  return { kind: 'failed', reason: 'too-large', message, retryable: false };
}

function failure(url: URL, policy: FetchPolicy, error: unknown, pastDeadline: boolean): HopResult {
  if (error instanceof TooLargeError) return tooLarge(url, policy, 'sent a body that decodes to more bytes than allowed');
  if (error instanceof UnsupportedEncodingError)
    return { kind: 'failed', reason: 'network', message: `${url.href}: ${error.message}`, retryable: false };
  const codes = causeChain(error).map((cause) => (cause as { code?: string }).code);
  const privateAddress = causeChain(error).find((cause) => cause instanceof PrivateAddressError);
  if (privateAddress) return { kind: 'failed', reason: 'private-address', message: (privateAddress as Error).message, retryable: false };
  if (codes.includes('UND_ERR_HEADERS_TIMEOUT') || codes.includes('UND_ERR_CONNECT_TIMEOUT')) {
    const message = `${url.href} sent no response headers within ${policy.firstByteSeconds} s (fetch.firstByteSeconds)`;
    return { kind: 'failed', reason: 'timeout', message, retryable: false };
  }
  if (pastDeadline || codes.includes('UND_ERR_BODY_TIMEOUT')) {
    const message = `${url.href} did not finish within ${policy.requestSeconds} s (fetch.requestSeconds)`;
    return { kind: 'failed', reason: 'timeout', message, retryable: false };
  }
  const detail = error instanceof Error ? error.message : String(error);
  const code = codes.find((value) => value !== undefined);
  return { kind: 'failed', reason: 'network', message: `${url.href}: ${detail}${code ? ` (${code})` : ''}`, retryable: true };
}

function causeChain(error: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let current = error; current instanceof Error && chain.length < 8; current = current.cause) chain.push(current);
  return chain;
}

/** The charset and media type of a Content-Type header, null where it names none or cannot be read. */
export function contentType(header: string | undefined): { contentType: string | null; charset: string | null } {
  if (!header) return { contentType: null, charset: null };
  try {
    const mime = new MIMEType(header);
    return { contentType: mime.essence, charset: mime.params.get('charset') ?? null };
  } catch {
    return { contentType: null, charset: null };
  }
}
