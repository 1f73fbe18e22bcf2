import { createHash, createPrivateKey, KeyObject, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import type { TLSConfig } from '@temporalio/worker';
import { Config, ConfigError } from './config';

type TlsSettings = Pick<Config['temporal'], 'tls' | 'tlsFiles' | 'tlsServerName'>;
type TlsFile = NonNullable<Config['temporal']['tlsFiles'][keyof Config['temporal']['tlsFiles']]>;

/** What the Temporal connection is made with, read from the files, and a fingerprint that changes when any file does. */
export interface TemporalTlsMaterial {
  /** For NativeConnection's `tls` option: undefined = plain text. */
  tls: TLSConfig | undefined;
  fingerprint: string;
  /** The client certificate's public facts, for the log line that says which certificate is in use. */
  clientCertificate?: { subject: string; serialNumber: string; validTo: string };
}

const invalid = (file: TlsFile, problem: string) => new ConfigError(`Invalid configuration:\n  ${file.variable}: ${problem}`);

function read(file: TlsFile): Buffer {
  try {
    return fs.readFileSync(file.path);
  } catch (err) {
    throw invalid(file, `cannot read ${file.path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

function certificate(file: TlsFile, pem: Buffer): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch {
    throw invalid(file, `${file.path} holds no PEM certificate`);
  }
}

function privateKey(file: TlsFile, pem: Buffer): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch {
    // Never the parser's message: it may quote the file.
    throw invalid(file, `${file.path} holds no PEM private key`);
  }
}

/**
 * Reads and checks the mTLS files named by the configuration: each readable, the certificates PEM, the key the
 * certificate's own, the certificate valid now. A problem is a ConfigError naming the variable (never a file's
 * contents), so the process stops at start-up rather than failing on its first call to Temporal.
 */
export function readTemporalTls(settings: TlsSettings, now: Date = new Date()): TemporalTlsMaterial {
  const { clientCert, clientKey, serverCa } = settings.tlsFiles;
  if (!settings.tls) return { tls: undefined, fingerprint: 'plaintext' };
  const hash = createHash('sha256').update(settings.tlsServerName ?? '');
  const tls: TLSConfig = {};
  if (settings.tlsServerName) tls.serverNameOverride = settings.tlsServerName;
  let clientCertificate: TemporalTlsMaterial['clientCertificate'];
  if (clientCert && clientKey) {
    const crt = read(clientCert);
    const key = read(clientKey);
    const x509 = certificate(clientCert, crt);
    if (!x509.checkPrivateKey(privateKey(clientKey, key))) throw invalid(clientKey, `the key in ${clientKey.path} does not belong to the certificate in ${clientCert.path}`);
    if (new Date(x509.validTo) < now) throw invalid(clientCert, `the certificate in ${clientCert.path} expired on ${new Date(x509.validTo).toISOString()}`);
    if (new Date(x509.validFrom) > now) throw invalid(clientCert, `the certificate in ${clientCert.path} is not valid before ${new Date(x509.validFrom).toISOString()}`);
    tls.clientCertPair = { crt, key };
    clientCertificate = { subject: x509.subject.replace(/\n/g, ', '), serialNumber: x509.serialNumber, validTo: new Date(x509.validTo).toISOString() };
    hash.update(crt).update(key);
  }
  if (serverCa) {
    const ca = read(serverCa);
    certificate(serverCa, ca);
    tls.serverRootCACertificate = ca;
    hash.update(ca);
  }
  return { tls, fingerprint: hash.digest('hex'), clientCertificate };
}

/** Whether the configuration names files that may change under a running process (a certificate rotated). */
export const hasTlsFiles = (settings: TlsSettings): boolean => settings.tls && Object.keys(settings.tlsFiles).length > 0;
