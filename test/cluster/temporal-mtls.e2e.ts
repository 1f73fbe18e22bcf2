/**
 * mTLS to Temporal against the real Temporal server with TLS on loopback (client certificates required): the
 * connection factory (src/temporal-connection.ts) connects with the files the configuration names, refuses to
 * start without them, and follows a certificate rotation written the way the kubelet updates a mounted Secret —
 * new connections, the client's and the worker's, use the new certificate without a restart.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NativeConnection, Worker } from '@temporalio/worker';
import { loadConfig } from '../../src/config';
import { ensureNamespace } from '../../src/dev/temporal-cluster';
import { connectTemporal, installRuntime, TemporalConnection } from '../../src/temporal-connection';
import { createCa, issue, Issued } from '../support/certificates';
import { startTlsTemporalServer, TlsTemporalServer } from '../support/temporal-tls-server';
import { waitFor } from '../support/wait';
import { mtlsProbe } from './fixtures/mtls-workflows';

const SERVER_NAME = 'temporal.test';
const TASK_QUEUE = 'mtls';
const read = (file: string) => fs.readFileSync(file);

/**
 * Files as Kubernetes mounts a Secret: each name a symlink through `..data` to a versioned folder; an update writes
 * a new folder and swaps `..data` in one rename, so a reader never sees half of it.
 */
class SecretVolume {
  private version = 0;
  constructor(readonly dir: string) {
    fs.mkdirSync(dir, { recursive: true });
  }
  path(name: string): string {
    return path.join(this.dir, name);
  }
  write(files: Record<string, Buffer>): void {
    const folder = `..v${++this.version}`;
    fs.mkdirSync(path.join(this.dir, folder));
    for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(this.dir, folder, name), content, { mode: 0o600 });
    fs.symlinkSync(folder, path.join(this.dir, '..data_tmp'));
    fs.renameSync(path.join(this.dir, '..data_tmp'), path.join(this.dir, '..data'));
    for (const name of Object.keys(files)) if (!fs.existsSync(this.path(name))) fs.symlinkSync(path.join('..data', name), this.path(name));
  }
}

let dir: string;
let server: TlsTemporalServer;
let serverCa: Issued;
let clientCaFile: string;
let clientA: Issued;
let clientB: Issued;
let volume: SecretVolume;
let connection: TemporalConnection | undefined;
let worker: Worker | undefined;
let running: Promise<void> | undefined;
const logged: { fields: Record<string, unknown>; message: string; level: string }[] = [];
const logger = {
  info: (fields: object, message: string) => void logged.push({ fields: fields as Record<string, unknown>, message, level: 'info' }),
  warn: (fields: object, message: string) => void logged.push({ fields: fields as Record<string, unknown>, message, level: 'warn' }),
  error: (fields: object, message: string) => void logged.push({ fields: fields as Record<string, unknown>, message, level: 'error' }),
} as never;

const pair = (client: Issued) => ({ 'tls.crt': read(client.cert), 'tls.key': read(client.key) });

/** Our configuration, as the Helm chart sets it: the three files of the mounted Secret and the server's name. */
function temporalOptions(overrides: Record<string, string | undefined> = {}) {
  const config = loadConfig({
    NODE_ENV: 'test',
    TEMPORAL_ADDRESS: server.address,
    TEMPORAL_TLS_CLIENT_CERT_PATH: volume.path('tls.crt'),
    TEMPORAL_TLS_CLIENT_KEY_PATH: volume.path('tls.key'),
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: volume.path('ca.crt'),
    TEMPORAL_TLS_SERVER_NAME: SERVER_NAME,
    ...overrides,
  });
  return { ...config.temporal, address: config.temporal.address! };
}

/** What the server accepts right now: a fresh connection (a new TLS handshake) with this client certificate, or none. */
async function handshake(client?: Issued): Promise<string> {
  try {
    const probe = await NativeConnection.connect({
      address: server.address,
      tls: { serverNameOverride: SERVER_NAME, serverRootCACertificate: read(serverCa.cert), ...(client ? { clientCertPair: { crt: read(client.cert), key: read(client.key) } } : {}) },
    });
    try {
      await probe.workflowService.describeNamespace({ namespace: 'default' });
      return 'accepted';
    } finally {
      await probe.close();
    }
  } catch (err) {
    return `refused: ${(err as Error).message}`;
  }
}

beforeAll(async () => {
  // The refusals below are expected: asserted, not printed by the SDK.
  process.env.TEMPORAL_LOG_LEVEL ??= 'ERROR';
  installRuntime();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ckw-mtls-'));
  const pki = path.join(dir, 'pki');
  serverCa = createCa(pki, 'server-ca');
  const frontend = issue(serverCa, pki, 'frontend', { dnsNames: [SERVER_NAME] });
  const clientsCaA = createCa(pki, 'clients-ca-1');
  clientA = issue(clientsCaA, pki, 'webhooks-1');
  clientB = issue(createCa(pki, 'clients-ca-2'), pki, 'webhooks-2');
  clientCaFile = path.join(dir, 'server-trusts-clients-of.crt');
  fs.copyFileSync(clientsCaA.cert, clientCaFile);
  server = await startTlsTemporalServer({ dir: path.join(dir, 'server'), tls: { cert: frontend.cert, key: frontend.key, ca: serverCa.cert, clientCaFile, serverName: SERVER_NAME } });
  volume = new SecretVolume(path.join(dir, 'secret'));
  volume.write({ ...pair(clientA), 'ca.crt': read(serverCa.cert) });
  await ensureNamespace({
    address: server.address,
    namespace: 'default',
    retentionDays: 1,
    tls: { serverNameOverride: SERVER_NAME, serverRootCACertificate: read(serverCa.cert), clientCertPair: { crt: read(clientA.cert), key: read(clientA.key) } },
    serverExited: () => (server.process.child.exitCode !== null ? `the Temporal server exited; see ${server.process.logFile}` : null),
  });
});

afterAll(async () => {
  if (worker?.getState() === 'RUNNING') worker.shutdown();
  await running;
  await connection?.close();
  await server?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

it('refuses a client without a certificate, or with one from a CA it does not trust; our factory then does not start', async () => {
  // Refused either way; the TLS alert named in the error depends on whether the client reads it before the server
  // closes the connection, so only the refusal is asserted (then a trusted certificate is accepted on the same server).
  expect(await handshake()).toMatch(/^refused/);
  const stranger = issue(createCa(path.join(dir, 'pki'), 'stranger-ca'), path.join(dir, 'pki'), 'stranger');
  expect(await handshake(stranger)).toMatch(/^refused/);
  expect(await handshake(clientA)).toBe('accepted');
  const withoutCertificate = temporalOptions({ TEMPORAL_TLS_CLIENT_CERT_PATH: undefined, TEMPORAL_TLS_CLIENT_KEY_PATH: undefined });
  expect(withoutCertificate.tls).toBe(true);
  await expect(connectTemporal(withoutCertificate, { deadlineMs: 0 })).rejects.toThrow(`Temporal at ${server.address} is not reachable`);
});

it('connects with the files the configuration names, and a worker on that connection runs workflows', async () => {
  connection = await connectTemporal(temporalOptions(), { reloadIntervalMs: 200, logger });
  worker = await Worker.create({ connection: connection.connection, namespace: 'default', taskQueue: TASK_QUEUE, workflowsPath: require.resolve('./fixtures/mtls-workflows') });
  connection.attachWorker(worker);
  running = worker.run();
  const { client } = connection;
  expect(await client.workflow.execute(mtlsProbe, { taskQueue: TASK_QUEUE, workflowId: 'mtls-first', args: ['first certificate'] })).toBe('done: first certificate');
  // The client shares the worker's connection: a start can hand its first task straight to this worker.
  const eager = await client.workflow.start(mtlsProbe, { taskQueue: TASK_QUEUE, workflowId: 'mtls-eager-first', args: ['eager'], requestEagerStart: true });
  expect(eager.eagerlyStarted).toBe(true);
  expect(await eager.result()).toBe('done: eager');
});

it('keeps the working connection while the files are half rotated (a certificate without its key)', async () => {
  const before = connection!.connection;
  volume.write({ 'tls.crt': read(clientB.cert), 'tls.key': read(clientA.key), 'ca.crt': read(serverCa.cert) });
  expect(await connection!.reload()).toBe('failed');
  expect(connection!.connection).toBe(before);
  const warning = logged.find((l) => l.level === 'warn');
  expect(warning?.message).toMatch(/not usable yet/);
  expect(warning?.fields.err).toMatch(/TEMPORAL_TLS_CLIENT_KEY_PATH: the key in .* does not belong to the certificate/);
  expect(JSON.stringify(logged)).not.toContain(read(clientA.key).toString().split('\n')[1]);
  expect(await connection!.client.workflow.execute(mtlsProbe, { taskQueue: TASK_QUEUE, workflowId: 'mtls-half', args: ['still the first'] })).toBe('done: still the first');
});

it('after the files are replaced with a newly issued certificate, new connections use it, with no restart', async () => {
  // The server now trusts only the new CA: a handshake with the first certificate can no longer succeed.
  fs.writeFileSync(`${clientCaFile}.tmp`, read(path.join(dir, 'pki', 'clients-ca-2.crt')));
  fs.renameSync(`${clientCaFile}.tmp`, clientCaFile);
  await waitFor(async () => (await handshake(clientA)).startsWith('refused') && (await handshake(clientB)) === 'accepted', 'the server to trust only the new CA', 20_000, 250);

  const before = connection!.connection;
  volume.write({ ...pair(clientB), 'ca.crt': read(serverCa.cert) });
  await waitFor(() => connection!.connection !== before, 'the connection renewed with the new certificate', 20_000);
  expect(logged.filter((l) => l.message === 'Temporal connection renewed with the changed TLS files').map((l) => l.fields.clientCertificate)).toEqual([
    expect.objectContaining({ serialNumber: clientB.serial, subject: 'CN=webhooks-2' }),
  ]);
  // The worker moved with it (the old connection is closed), and its polls and completions go over the new one.
  expect(worker!.connection === connection!.connection).toBe(true);
  const { client } = connection!;
  expect(await client.workflow.execute(mtlsProbe, { taskQueue: TASK_QUEUE, workflowId: 'mtls-second', args: ['second certificate'] })).toBe('done: second certificate');
  const eager = await client.workflow.start(mtlsProbe, { taskQueue: TASK_QUEUE, workflowId: 'mtls-eager-second', args: ['eager again'], requestEagerStart: true });
  expect(eager.eagerlyStarted).toBe(true);
  expect(await eager.result()).toBe('done: eager again');
  // Unchanged files: nothing to do.
  expect(await connection!.reload()).toBe('unchanged');
});
