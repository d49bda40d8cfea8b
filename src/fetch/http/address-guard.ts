/**
 * SSRF guard: decides whether an address may be connected to, and wraps name resolution so that every
 * address a name resolves to is checked at connect time, on the answer the socket then uses (no second
 * lookup a rebinding DNS server could answer differently).
 */
import { lookup as dnsLookup } from 'node:dns';
import type { LookupAddress, LookupOptions } from 'node:dns';
import ipaddr from 'ipaddr.js';
import type { LookupFunction } from './types.js';

/** Thrown (through the socket) when a host resolves to an address the policy refuses. */
export class PrivateAddressError extends Error {
  readonly code = 'NB_PRIVATE_ADDRESS';
  constructor(
    readonly host: string,
    readonly address: string,
  ) {
    const what = host.replace(/^\[|\]$/g, '') === address ? address : `${host} resolves to ${address}, which`;
    super(`${what} is a private or reserved address; set fetch.allowPrivateAddresses: true if this is an intranet feed`);
  }
}

export interface AddressPolicy {
  allowPrivateAddresses: boolean;
  trustedRanges: readonly [ipaddr.IPv4 | ipaddr.IPv6, number][];
}

export function parseRanges(ranges: readonly string[] = []): AddressPolicy['trustedRanges'] {
  return ranges.map((range) => {
    try {
      return ipaddr.parseCIDR(range);
    } catch {
      throw new Error(`trusted address range "${range}" is not a CIDR range such as 10.0.0.0/8 or fd00::/8`);
    }
  });
}

/**
 * True when the address may be connected to. ipaddr.js names the range; only "unicast" (globally
 * routable) passes, so loopback, private, linkLocal (169.254.169.254 metadata included), carrierGradeNat,
 * uniqueLocal, unspecified, multicast, broadcast and reserved all fail. A v4-mapped v6 address is judged as v4.
 */
export function addressAllowed(address: string, policy: AddressPolicy): boolean {
  if (policy.allowPrivateAddresses) return true;
  if (!ipaddr.isValid(address)) return false;
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  for (const [network, bits] of policy.trustedRanges) {
    if (network.kind() === parsed.kind() && parsed.match(network, bits)) return true;
  }
  return parsed.range() === 'unicast';
}

/** The IP literal of a URL hostname ("[::1]" unbracketed), or undefined for a name. */
export function ipLiteral(hostname: string): string | undefined {
  const bare = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  return ipaddr.isValid(bare) && (bare.includes(':') || ipaddr.IPv4.isValidFourPartDecimal(bare)) ? bare : undefined;
}

type NetLookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for net/tls.connect: resolves every address, refuses the connection if any is refused
 * (a name that answers one public and one private address is treated as hostile), and answers in the
 * shape the caller asked for (all addresses for happy eyeballs, or the first).
 */
export function guardedLookup(policy: AddressPolicy, resolve: LookupFunction = dnsLookup as unknown as LookupFunction) {
  return (hostname: string, options: LookupOptions, callback: NetLookupCallback): void => {
    resolve(hostname, { all: true, family: typeof options.family === 'number' ? options.family : undefined }, (error, addresses) => {
      if (error) return callback(error, []);
      const refused = addresses.find((entry) => !addressAllowed(entry.address, policy));
      if (refused) return callback(new PrivateAddressError(hostname, refused.address), []);
      const [first] = addresses;
      if (!first) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), []);
      if (options.all) return callback(null, addresses);
      callback(null, first.address, first.family);
    });
  };
}
