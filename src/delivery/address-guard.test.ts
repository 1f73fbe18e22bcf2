import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LookupAddress } from 'node:dns';
import {
  checkUrl,
  guardedLookup,
  isPublicAddress,
  OutboundAddressError,
  type LookupAllImpl,
  type OutboundPolicy,
} from './address-guard';

const strict: OutboundPolicy = { allowPrivateTargets: false, requireHttps: true };
const strictHttp: OutboundPolicy = { allowPrivateTargets: false, requireHttps: false };
const permissive: OutboundPolicy = { allowPrivateTargets: true, requireHttps: false };

describe('isPublicAddress', () => {
  it.each([
    ['loopback v4', '127.0.0.1'],
    ['loopback v4 (other)', '127.255.0.9'],
    ['loopback v6', '::1'],
    ['private 10/8', '10.0.0.1'],
    ['private 172.16/12', '172.16.0.1'],
    ['private 172.16/12 (top)', '172.31.255.254'],
    ['private 192.168/16', '192.168.1.1'],
    ['link-local v4', '169.254.1.1'],
    ['link-local v6', 'fe80::1'],
    ['link-local v6 with zone', 'fe80::1%eth0'],
    ['CGNAT', '100.64.0.1'],
    ['CGNAT (top)', '100.127.255.254'],
    ['multicast v4', '224.0.0.1'],
    ['multicast v6', 'ff02::1'],
    ['broadcast', '255.255.255.255'],
    ['unspecified v4', '0.0.0.0'],
    ['this-network 0/8', '0.1.2.3'],
    ['unspecified v6', '::'],
    ['IETF protocol assignments', '192.0.0.8'],
    ['TEST-NET-1', '192.0.2.1'],
    ['benchmarking', '198.18.0.1'],
    ['benchmarking (top)', '198.19.255.254'],
    ['TEST-NET-2', '198.51.100.1'],
    ['TEST-NET-3', '203.0.113.1'],
    ['reserved 240/4', '240.0.0.1'],
    ['unique-local v6', 'fc00::1'],
    ['unique-local v6 (fd)', 'fd12:3456::1'],
    ['IPv6 documentation', '2001:db8::1'],
    ['NAT64 of loopback', '64:ff9b::7f00:1'],
    ['NAT64 of private', '64:ff9b::a00:1'],
    ['6to4 of private', '2002:a00:1::1'],
    ['teredo', '2001:0:4136:e378:8000:63bf:3fff:fdd2'],
    ['cloud metadata v4', '169.254.169.254'],
    ['cloud metadata v6 (AWS)', 'fd00:ec2::254'],
    ['mapped loopback (dotted)', '::ffff:127.0.0.1'],
    ['mapped loopback (hex)', '::ffff:7f00:1'],
    ['mapped private', '::ffff:10.0.0.1'],
    ['mapped metadata', '::ffff:169.254.169.254'],
    ['IPv4-compatible loopback', '::127.0.0.1'],
  ])('refuses %s (%s)', (_label, ip) => {
    expect(isPublicAddress(ip)).toBe(false);
  });

  it.each(['1.1.1.1', '8.8.8.8', '2606:4700:4700::1111', '2001:4860:4860::8888', '::ffff:8.8.8.8'])(
    'allows public %s',
    (ip) => {
      expect(isPublicAddress(ip)).toBe(true);
    },
  );

  it.each(['', 'localhost', 'example.com', '1.2.3', '256.1.1.1', '010.0.0.1', '[::1]', '::g'])(
    'treats invalid input %j as non-public',
    (input) => {
      expect(isPublicAddress(input)).toBe(false);
    },
  );
});

describe('checkUrl', () => {
  function refusal(url: string, policy: OutboundPolicy): OutboundAddressError {
    try {
      checkUrl(url, policy);
    } catch (err) {
      expect(err).toBeInstanceOf(OutboundAddressError);
      return err as OutboundAddressError;
    }
    throw new Error(`expected ${url} to be refused`);
  }

  it.each([
    'http://127.0.0.1/',
    'http://[::1]/',
    'http://169.254.169.254/latest/meta-data/',
    'http://10.0.0.1/',
    'http://[::ffff:127.0.0.1]/',
    'http://[fd00:ec2::254]/',
    'http://0x7f.1/', // the URL parser normalises this to 127.0.0.1
  ])('refuses non-public literal host %s', (url) => {
    const err = refusal(url, strictHttp);
    expect(err.reason).toBe('non_public_address');
    expect(err.code).toBe('ERR_OUTBOUND_ADDRESS');
  });

  it('refuses http:// when https is required', () => {
    expect(refusal('http://example.com/hook', strict).reason).toBe('https_required');
  });

  it('refuses non-http(s) schemes', () => {
    expect(refusal('ftp://example.com/file', strictHttp).reason).toBe('unsupported_scheme');
    expect(refusal('file:///etc/passwd', permissive).reason).toBe('unsupported_scheme');
  });

  it('refuses credentials in the URL without echoing them', () => {
    const err = refusal('https://user:hunter2@example.com/hook', strict);
    expect(err.reason).toBe('credentials_in_url');
    expect(err.message).not.toContain('hunter2');
    expect(refusal('https://user@example.com/', strict).reason).toBe('credentials_in_url');
  });

  it('refuses unparseable URLs without echoing them', () => {
    const err = refusal('not a url secret-token', strict);
    expect(err.reason).toBe('invalid_url');
    expect(err.message).not.toContain('secret-token');
  });

  it('mentions only the host, never the path or query', () => {
    const err = refusal('http://10.0.0.1/hooks/s3cr3t-path?token=s3cr3t-query', strictHttp);
    expect(err.message).toContain('10.0.0.1');
    expect(err.message).not.toContain('s3cr3t');
  });

  it('returns the parsed URL for acceptable destinations', () => {
    const url = checkUrl('https://hooks.example.com/in?x=1', strict);
    expect(url).toBeInstanceOf(URL);
    expect(url.hostname).toBe('hooks.example.com');
    expect(checkUrl('https://[2606:4700:4700::1111]/', strict).hostname).toBe('[2606:4700:4700::1111]');
    expect(checkUrl('https://8.8.8.8/', strict).hostname).toBe('8.8.8.8');
  });

  it('allows private literals and plain http when the policy permits', () => {
    expect(checkUrl('http://127.0.0.1:8080/', permissive).port).toBe('8080');
    expect(checkUrl('http://[::1]/', permissive).hostname).toBe('[::1]');
  });
});

describe('guardedLookup', () => {
  function fakeDns(...ips: string[]): jest.Mock & LookupAllImpl {
    const answers: LookupAddress[] = ips.map((address) => ({
      address,
      family: address.includes(':') ? 6 : 4,
    }));
    return jest.fn((_hostname, _options, callback) => callback(null, answers));
  }

  function run(
    policy: OutboundPolicy,
    impl: LookupAllImpl,
    options: { all?: boolean; family?: number } = {},
  ): Promise<{ err: NodeJS.ErrnoException | null; address: unknown; family?: number }> {
    return new Promise((resolve) => {
      guardedLookup(policy, impl)('hooks.example.com', options, (err, address, family) =>
        resolve({ err, address, family }),
      );
    });
  }

  it('refuses a name resolving to a private address', async () => {
    const { err } = await run(strictHttp, fakeDns('10.0.0.5'));
    expect(err).toBeInstanceOf(OutboundAddressError);
    expect(err?.code).toBe('ERR_OUTBOUND_ADDRESS');
    expect(err?.message).toContain('hooks.example.com');
  });

  it('refuses when any of several answers is non-public', async () => {
    const { err } = await run(strictHttp, fakeDns('8.8.8.8', '127.0.0.1'));
    expect(err?.code).toBe('ERR_OUTBOUND_ADDRESS');
  });

  it('passes a public answer through as a single address', async () => {
    const impl = fakeDns('8.8.8.8');
    const result = await run(strictHttp, impl, { family: 4 });
    expect(result).toEqual({ err: null, address: '8.8.8.8', family: 4 });
    // Always asks for every address, keeping the caller's other options.
    expect(impl).toHaveBeenCalledWith('hooks.example.com', { family: 4, all: true }, expect.any(Function));
  });

  it('returns every answer when the caller asks for all (autoSelectFamily)', async () => {
    const { err, address } = await run(strictHttp, fakeDns('8.8.8.8', '2001:4860:4860::8888'), { all: true });
    expect(err).toBeNull();
    expect(address).toEqual([
      { address: '8.8.8.8', family: 4 },
      { address: '2001:4860:4860::8888', family: 6 },
    ]);
  });

  it('allows private answers when allowPrivateTargets is set', async () => {
    const result = await run(permissive, fakeDns('10.0.0.5'));
    expect(result).toEqual({ err: null, address: '10.0.0.5', family: 4 });
  });

  it('passes resolver errors through', async () => {
    const failure = Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' });
    const { err } = await run(strictHttp, (_h, _o, cb) => cb(failure, []));
    expect(err).toBe(failure);
  });

  it('treats an empty answer as not found', async () => {
    const { err } = await run(permissive, fakeDns());
    expect(err?.code).toBe('ENOTFOUND');
  });
});

describe('guardedLookup on a real socket', () => {
  let server: http.Server;
  let port: number;
  let connections = 0;

  beforeAll(async () => {
    server = http.createServer((_req, res) => res.end('ok'));
    server.on('connection', () => connections++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  beforeEach(() => {
    connections = 0;
  });

  it('refuses http://localhost before any connection is made', async () => {
    const err = await new Promise<NodeJS.ErrnoException>((resolve, reject) => {
      const req = http.get(
        `http://localhost:${port}/`,
        { agent: false, lookup: guardedLookup(strictHttp) },
        () => reject(new Error('request unexpectedly succeeded')),
      );
      req.on('error', resolve);
    });
    expect(err.code).toBe('ERR_OUTBOUND_ADDRESS');
    expect(connections).toBe(0);
  });

  // Control: proves the counter sees connections, so the 0 above is meaningful.
  it('connects when the policy allows private targets', async () => {
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const req = http.get(
        `http://localhost:${port}/`,
        { agent: false, family: 4, lookup: guardedLookup(permissive) },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode));
        },
      );
      req.on('error', reject);
    });
    expect(status).toBe(200);
    expect(connections).toBe(1);
  });
});
