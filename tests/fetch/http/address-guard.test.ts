import { describe, expect, it } from 'vitest';
import { addressAllowed, parseRanges } from '../../../src/fetch/http/address-guard.js';
import type { LookupFunction } from '../../../src/fetch/http/index.js';
import { testPolicy } from './server.js';

import { fetcher, serve } from './open-resources.js';

/** A resolver answering fixed addresses per name, recording every name it was asked (the connections' own lookups). */
function resolver(names: Record<string, string[]>): { lookup: LookupFunction; asked: string[] } {
  const asked: string[] = [];
  const lookup: LookupFunction = (hostname, _options, callback) => {
    asked.push(hostname);
    const addresses = names[hostname];
    if (!addresses) return callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), []);
    callback(
      null,
      addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })),
    );
  };
  return { lookup, asked };
}

const page = (_request: unknown, response: import('node:http').ServerResponse) => response.end('page');

describe('addressAllowed', () => {
  const closed = { allowPrivateAddresses: false, trustedRanges: [] };

  it.each([
    '127.0.0.1',
    '127.8.9.10',
    '10.1.2.3',
    '172.16.0.1',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '255.255.255.255',
    '240.0.0.1',
    '::1',
    '::',
    'fe80::1',
    'fc00::1',
    'fd12:3456::1',
    'ff02::1',
    '::ffff:127.0.0.1',
    '::ffff:169.254.169.254',
    '::ffff:10.0.0.1',
    '64:ff9b::7f00:1',
    'not-an-address',
  ])('refuses %s', (address) => {
    expect(addressAllowed(address, closed)).toBe(false);
  });

  it.each(['93.184.216.34', '8.8.8.8', '2606:4700::1111', '::ffff:93.184.216.34'])('allows the public address %s', (address) => {
    expect(addressAllowed(address, closed)).toBe(true);
  });

  it('allows a trusted range and nothing next to it', () => {
    const policy = { allowPrivateAddresses: false, trustedRanges: parseRanges(['10.1.0.0/16']) };
    expect(addressAllowed('10.1.200.3', policy)).toBe(true);
    expect(addressAllowed('10.2.0.1', policy)).toBe(false);
  });

  it('names the fix for a range that is not CIDR', () => {
    expect(() => parseRanges(['10.1.0.0'])).toThrow(/not a CIDR range such as 10\.0\.0\.0\/8/);
  });
});

describe('SSRF refusal on the address connected to', () => {
  it('refuses 127.0.0.1 and localhost before any request reaches the server', async () => {
    const server = await serve(page);
    const polite = fetcher(testPolicy({ allowPrivateAddresses: false }));
    const literal = await polite.fetch(`${server.origin}/a`);
    expect(literal).toMatchObject({ kind: 'failed', reason: 'private-address' });
    expect(literal.kind === 'failed' && literal.message).toMatch(/fetch\.allowPrivateAddresses/);
    expect(await polite.fetch(`http://localhost:${server.port}/a`)).toMatchObject({ kind: 'failed', reason: 'private-address' });
    expect(await polite.fetch(`http://[::ffff:127.0.0.1]:${server.port}/a`)).toMatchObject({ kind: 'failed', reason: 'private-address' });
    expect(server.visits).toHaveLength(0);
  });

  it('refuses a name that resolves to a private address, and one that resolves to a public and a private one', async () => {
    const server = await serve(page);
    const { lookup, asked } = resolver({ 'news.test': ['127.0.0.1'], 'mixed.test': ['93.184.216.34', '127.0.0.1'] });
    const polite = fetcher(testPolicy({ allowPrivateAddresses: false }), { lookup });
    const outcome = await polite.fetch(`http://news.test:${server.port}/a`);
    expect(outcome).toMatchObject({ kind: 'failed', reason: 'private-address' });
    expect(outcome.kind === 'failed' && outcome.message).toMatch(/news\.test resolves to 127\.0\.0\.1/);
    expect(await polite.fetch(`http://mixed.test:${server.port}/a`)).toMatchObject({ kind: 'failed', reason: 'private-address' });
    expect(asked).toEqual(['news.test', 'mixed.test']);
    expect(server.visits).toHaveLength(0);
  });

  /*
   * The first hop must be reachable with private addresses off, so its server's address (127.0.0.1) is
   * trusted (trustedRanges) and nothing else is; the redirect goes to a name the resolver answers with
   * 127.0.0.2, where a second real server listens. The refusal comes from the same connect-time lookup
   * as in production; the control case, with 127.0.0.2 trusted too, shows that server is reachable.
   */
  it('checks the address again after a redirect', async () => {
    const inside = await serve(page, { host: '127.0.0.2' });
    const outside = await serve((_request, response) => {
      response.writeHead(302, { location: `http://intranet.test:${inside.port}/secret` });
      response.end();
    });
    const { lookup } = resolver({ 'intranet.test': ['127.0.0.2'] });
    const closed = fetcher(testPolicy({ allowPrivateAddresses: false }), { lookup, trustedRanges: ['127.0.0.1/32'] });
    const outcome = await closed.fetch(`${outside.origin}/story`);
    expect(outcome).toMatchObject({ kind: 'failed', reason: 'private-address', url: `${outside.origin}/story` });
    expect(outcome.kind === 'failed' && outcome.message).toMatch(/intranet\.test resolves to 127\.0\.0\.2/);
    expect(outside.visitsTo('/story')).toHaveLength(1);
    expect(inside.visits).toHaveLength(0);

    const trusting = fetcher(testPolicy({ allowPrivateAddresses: false }), { lookup, trustedRanges: ['127.0.0.1/32', '127.0.0.2/32'] });
    expect(await trusting.fetch(`${outside.origin}/story`)).toMatchObject({
      kind: 'fetched',
      finalUrl: `http://intranet.test:${inside.port}/secret`,
    });
    // The address checked is the one connected to: the server saw the request arrive on 127.0.0.2.
    expect(inside.visitsTo('/secret')[0]?.localAddress).toBe('127.0.0.2');
  });

  it('refuses a redirect to a private IP literal', async () => {
    const outside = await serve((_request, response) => {
      response.writeHead(301, { location: 'http://169.254.169.254/latest/meta-data/' });
      response.end();
    });
    const polite = fetcher(testPolicy({ allowPrivateAddresses: false }), { trustedRanges: ['127.0.0.1/32'] });
    expect(await polite.fetch(`${outside.origin}/story`)).toMatchObject({ kind: 'failed', reason: 'private-address' });
  });
});
