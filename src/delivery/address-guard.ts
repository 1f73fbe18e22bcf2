// SSRF protection for outbound webhook deliveries.
//
// Two layers are needed because Node skips the `lookup` option for literal IP
// hosts: checkUrl() vets the URL (scheme, credentials, literal IPs) up front,
// and guardedLookup() vets every DNS answer at connect time, so a hostname
// that re-resolves to an internal address (DNS rebinding) is still refused.
import dns from 'node:dns';
import net from 'node:net';
import ipaddr from 'ipaddr.js';

export type OutboundPolicy = { allowPrivateTargets: boolean; requireHttps: boolean };

export type OutboundRefusalReason =
  | 'invalid_url'
  | 'unsupported_scheme'
  | 'https_required'
  | 'credentials_in_url'
  | 'non_public_address';

// Messages name the host at most: URL paths and queries may carry tokens.
export class OutboundAddressError extends Error {
  readonly code = 'ERR_OUTBOUND_ADDRESS';

  constructor(
    readonly reason: OutboundRefusalReason,
    message: string,
  ) {
    super(message);
    this.name = 'OutboundAddressError';
  }
}

export function isPublicAddress(ip: string): boolean {
  // net.isIP accepts only canonical literals; ipaddr.js alone would also take
  // forms like "010.0.0.1" or "127.1".
  if (net.isIP(ip) === 0) return false;
  let addr = ipaddr.parse(ip);
  if (addr.kind() === 'ipv6') {
    const v6 = addr as ipaddr.IPv6;
    // ::ffff:a.b.c.d reaches the embedded IPv4 address, so judge that.
    if (v6.isIPv4MappedAddress()) {
      addr = v6.toIPv4Address();
    } else if (v6.parts.slice(0, 6).every((part) => part === 0)) {
      // Deprecated IPv4-compatible ::/96 (e.g. ::7f00:1): ipaddr.js calls it
      // 'unicast', but it is never a legitimate public target.
      return false;
    }
  }
  // Anything special-purpose counts as non-public. This includes NAT64,
  // 6to4 and teredo whatever IPv4 they embed, and the metadata endpoints
  // (169.254.169.254 is link-local, fd00:ec2::254 is unique-local).
  return addr.range() === 'unicast';
}

export function checkUrl(url: string, policy: OutboundPolicy): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // Don't chain the TypeError: its `input` property holds the full URL.
    throw new OutboundAddressError('invalid_url', 'Destination URL is not a valid URL');
  }
  const host = parsed.hostname;

  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new OutboundAddressError(
      'unsupported_scheme',
      `Destination ${host || '(no host)'} uses unsupported scheme ${parsed.protocol}`,
    );
  }
  if (policy.requireHttps && parsed.protocol !== 'https:') {
    throw new OutboundAddressError('https_required', `Destination ${host} must use https`);
  }
  if (parsed.username !== '' || parsed.password !== '') {
    throw new OutboundAddressError(
      'credentials_in_url',
      `Destination ${host} must not include a username or password`,
    );
  }

  // WHATWG URL already normalises IPv4 literals ("0x7f.1" -> "127.0.0.1");
  // IPv6 literals keep their brackets.
  const literal = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (!policy.allowPrivateTargets && net.isIP(literal) !== 0 && !isPublicAddress(literal)) {
    throw new OutboundAddressError(
      'non_public_address',
      `Destination ${host} is not a public address`,
    );
  }
  return parsed;
}

/** The dns.lookup overload guardedLookup relies on; injectable for tests. */
export type LookupAllImpl = (
  hostname: string,
  options: dns.LookupAllOptions,
  callback: (err: NodeJS.ErrnoException | null, addresses: dns.LookupAddress[]) => void,
) => void;

/**
 * A `lookup` for http.request/https.request/net.connect that refuses
 * non-public targets. It runs on every connect, so the check applies to the
 * addresses actually dialled.
 */
export function guardedLookup(
  policy: OutboundPolicy,
  lookupImpl: LookupAllImpl = dns.lookup,
): net.LookupFunction {
  return (hostname, options, callback) => {
    // Always resolve everything: one bad answer taints the whole name, since
    // autoSelectFamily may dial any of them.
    lookupImpl(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '');
      if (addresses.length === 0) {
        const notFound: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${hostname}`);
        notFound.code = 'ENOTFOUND';
        return callback(notFound, '');
      }
      if (!policy.allowPrivateTargets) {
        const bad = addresses.find((a) => !isPublicAddress(a.address));
        if (bad) {
          return callback(
            new OutboundAddressError(
              'non_public_address',
              `Destination ${hostname} resolves to non-public address ${bad.address}`,
            ),
            '',
          );
        }
      }
      if (options.all) return callback(null, addresses);
      callback(null, addresses[0].address, addresses[0].family);
    });
  };
}
