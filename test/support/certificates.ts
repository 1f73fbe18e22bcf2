/**
 * X.509 material for TLS tests, issued with the `openssl` command (P-256 keys, v3 extensions rustls and Go accept):
 * a CA, and certificates it signs for a server (DNS names in the SAN) or a client (clientAuth).
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export interface Issued {
  cert: string;
  key: string;
  /** The certificate's serial number, as Node prints it (upper-case hex). */
  serial: string;
}

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const e = err as { code?: string; stderr?: Buffer; message: string };
    if (e.code === 'ENOENT') throw new Error('These tests issue certificates with the `openssl` command: install openssl');
    throw new Error(`openssl ${args[0]} failed: ${e.stderr?.toString() ?? e.message}`);
  }
}

const serialOf = (certFile: string) => new X509Certificate(fs.readFileSync(certFile)).serialNumber;

/** A self-signed CA in `dir`/`name`.crt and .key. */
export function createCa(dir: string, name: string): Issued {
  fs.mkdirSync(dir, { recursive: true });
  const cert = path.join(dir, `${name}.crt`);
  const key = path.join(dir, `${name}.key`);
  openssl(
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${name}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
    dir,
  );
  return { cert, key, serial: serialOf(cert) };
}

/** A certificate signed by `ca`: for a server when `dnsNames` are given, else for a client. */
export function issue(ca: Issued, dir: string, name: string, options: { dnsNames?: string[] } = {}): Issued {
  fs.mkdirSync(dir, { recursive: true });
  const cert = path.join(dir, `${name}.crt`);
  const key = path.join(dir, `${name}.key`);
  const csr = path.join(dir, `${name}.csr`);
  const ext = path.join(dir, `${name}.ext`);
  const server = Boolean(options.dnsNames?.length);
  fs.writeFileSync(
    ext,
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      // The server's certificate also serves the Temporal server's own system worker as a client.
      `extendedKeyUsage=${server ? 'serverAuth,clientAuth' : 'clientAuth'}`,
      ...(server ? [`subjectAltName=${options.dnsNames!.map((n) => `DNS:${n}`).join(',')}`] : []),
    ].join('\n') + '\n',
  );
  openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', csr, '-subj', `/CN=${name}`], dir);
  openssl(['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-out', cert, '-days', '2', '-extfile', ext], dir);
  return { cert, key, serial: serialOf(cert) };
}
