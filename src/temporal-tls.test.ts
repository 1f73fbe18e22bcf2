import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createCa, issue, Issued } from '../test/support/certificates';
import { ConfigError, loadConfig } from './config';
import { readTemporalTls } from './temporal-tls';

let dir: string;
let ca: Issued;
let client: Issued;
let other: Issued;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ckw-tls-unit-'));
  ca = createCa(dir, 'ca');
  client = issue(ca, dir, 'client');
  other = issue(ca, dir, 'other');
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const temporal = (env: Record<string, string>) => loadConfig({ TEMPORAL_ADDRESS: 'temporal.example:7233', ...env }).temporal;
const mtls = (cert: string, key: string, extra: Record<string, string> = {}) =>
  temporal({ TEMPORAL_TLS_CLIENT_CERT_PATH: cert, TEMPORAL_TLS_CLIENT_KEY_PATH: key, ...extra });

/** The ConfigError's message, for asserting which variable it names. */
function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('Temporal TLS configuration', () => {
  it('turns TLS on with a client certificate, a CA or a server name, as Temporal tools do', () => {
    expect(temporal({}).tls).toBe(false);
    expect(temporal({ TEMPORAL_API_KEY: 'k' }).tls).toBe(true);
    expect(mtls(client.cert, client.key).tls).toBe(true);
    expect(temporal({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: ca.cert }).tls).toBe(true);
    expect(temporal({ TEMPORAL_TLS_SERVER_NAME: 'temporal.internal' }).tls).toBe(true);
  });

  it('wants the certificate and its key together, readable, and TLS not switched off', () => {
    expect(configError(() => temporal({ TEMPORAL_TLS_CLIENT_CERT_PATH: client.cert }))).toMatch(/TEMPORAL_TLS_CLIENT_KEY_PATH: required with TEMPORAL_TLS_CLIENT_CERT_PATH/);
    expect(configError(() => temporal({ TEMPORAL_TLS_CLIENT_KEY_PATH: client.key }))).toMatch(/TEMPORAL_TLS_CLIENT_CERT_PATH: required with TEMPORAL_TLS_CLIENT_KEY_PATH/);
    expect(configError(() => mtls(path.join(dir, 'missing.crt'), client.key))).toMatch(/TEMPORAL_TLS_CLIENT_CERT_PATH: cannot read .*missing\.crt \(ENOENT\)/);
    expect(configError(() => mtls(client.cert, client.key, { TEMPORAL_TLS_SERVER_CA_CERT_PATH: path.join(dir, 'nope') }))).toMatch(/TEMPORAL_TLS_SERVER_CA_CERT_PATH: cannot read/);
    expect(configError(() => mtls(client.cert, client.key, { TEMPORAL_TLS: 'false' }))).toMatch(/TEMPORAL_TLS: false, but TEMPORAL_TLS_CLIENT_CERT_PATH set/);
  });
});

describe('readTemporalTls', () => {
  it('reads the pair, the CA and the server name into the SDK options, with the certificate described for the log', () => {
    const material = readTemporalTls(mtls(client.cert, client.key, { TEMPORAL_TLS_SERVER_CA_CERT_PATH: ca.cert, TEMPORAL_TLS_SERVER_NAME: 'temporal.internal' }));
    expect(material.tls).toEqual({
      serverNameOverride: 'temporal.internal',
      clientCertPair: { crt: fs.readFileSync(client.cert), key: fs.readFileSync(client.key) },
      serverRootCACertificate: fs.readFileSync(ca.cert),
    });
    expect(material.clientCertificate).toEqual({ subject: 'CN=client', serialNumber: client.serial, validTo: expect.any(String) });
    expect(JSON.stringify(material.clientCertificate)).not.toContain('PRIVATE KEY');
  });

  it('plain text without TLS; TLS with the system roots when only an API key is given', () => {
    expect(readTemporalTls(temporal({})).tls).toBeUndefined();
    expect(readTemporalTls(temporal({ TEMPORAL_API_KEY: 'k' })).tls).toEqual({});
  });

  it('changes its fingerprint when any file changes, and only then', () => {
    const copy = (from: string, name: string) => (fs.copyFileSync(from, path.join(dir, name)), path.join(dir, name));
    const settings = mtls(copy(client.cert, 'live.crt'), copy(client.key, 'live.key'), { TEMPORAL_TLS_SERVER_CA_CERT_PATH: copy(ca.cert, 'live-ca.crt') });
    const first = readTemporalTls(settings).fingerprint;
    expect(readTemporalTls(settings).fingerprint).toBe(first);
    copy(other.cert, 'live.crt');
    copy(other.key, 'live.key');
    expect(readTemporalTls(settings).fingerprint).not.toBe(first);
  });

  it('refuses what the files cannot be, naming the variable and never quoting a file', () => {
    const garbage = path.join(dir, 'garbage.pem');
    fs.writeFileSync(garbage, 'not a certificate, and not a key either');
    const messages = [
      configError(() => readTemporalTls(mtls(garbage, client.key))),
      configError(() => readTemporalTls(mtls(client.cert, garbage))),
      configError(() => readTemporalTls(mtls(client.cert, other.key))),
      configError(() => readTemporalTls(mtls(client.cert, client.key, { TEMPORAL_TLS_SERVER_CA_CERT_PATH: garbage }))),
      configError(() => readTemporalTls(mtls(client.cert, client.key), new Date(Date.now() + 10 * 86_400_000))),
    ];
    expect(messages[0]).toMatch(/TEMPORAL_TLS_CLIENT_CERT_PATH: .*garbage\.pem holds no PEM certificate/);
    expect(messages[1]).toMatch(/TEMPORAL_TLS_CLIENT_KEY_PATH: .*garbage\.pem holds no PEM private key/);
    expect(messages[2]).toMatch(/TEMPORAL_TLS_CLIENT_KEY_PATH: the key in .*other\.key does not belong to the certificate in .*client\.crt/);
    expect(messages[3]).toMatch(/TEMPORAL_TLS_SERVER_CA_CERT_PATH: .*garbage\.pem holds no PEM certificate/);
    expect(messages[4]).toMatch(/TEMPORAL_TLS_CLIENT_CERT_PATH: the certificate in .*client\.crt expired on/);
    for (const message of messages) expect(message).not.toMatch(/not a certificate|BEGIN/);
  });
});
