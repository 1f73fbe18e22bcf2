/**
 * SIGTERM, as Kubernetes sends it, to real API and worker processes (`npm run api`, `npm run worker`):
 * the API turns /readyz red first, stops accepting, finishes the request in flight and exits 0; the worker
 * lets the delivery attempt in flight finish (logged once) before it exits 0.
 */
import { ChildProcess, spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import type { Knex } from 'knex';
import { SecretBox } from '../src/domain/secret-box';
import { freePort } from './support/free-port';
import { Receiver } from './support/receiver';
import { secretCreatedData } from './support/stack';
import { waitFor } from './support/wait';
import { createTestDatabase } from './support/test-database';

const ROOT = path.resolve(__dirname, '..');
const children: ChildProcess[] = [];
let receiver: Receiver;
let db: Knex;
let env: Record<string, string>;
let apiKey: string;
let serviceToken: string;

interface Child {
  process: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function run(script: string, extraEnv: Record<string, string> = {}): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: ROOT, env: { ...process.env, ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  children.push(child);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { process: child, output: () => output, exited };
}

const refusesConnections = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => (socket.destroy(), resolve(false)));
    socket.on('error', () => resolve(true));
  });

beforeAll(async () => {
  const created = await createTestDatabase('shutdown', { name: 'Drain', email: 'ops@drain.test' });
  ({ db, apiKey, serviceToken } = created);
  const { databaseUrl } = created;
  env = {
    NODE_ENV: 'development',
    DATABASE_URL: databaseUrl,
    TEMPORAL_ADDRESS: process.env.TEST_TEMPORAL_ADDRESS!,
    TEMPORAL_TASK_QUEUE: `shutdown-${process.pid}`,
    SECRET_ENCRYPTION_KEY: SecretBox.generateKey(),
    LOG_LEVEL: 'info',
  };
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await receiver?.stop();
  await db?.destroy();
});

it('API: SIGTERM turns /readyz 503, closes the listener, finishes the request in flight and exits 0', async () => {
  const port = await freePort();
  const api = run('src/api/server.ts', { PORT: String(port), SHUTDOWN_READINESS_DELAY_SECONDS: '2' });
  const base = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${base}/readyz`)).status === 200, 'the API process', 60_000, 200);

  // An ingest request whose body is still arriving when SIGTERM comes.
  const body = JSON.stringify({ event: 'secret.created', data: secretCreatedData });
  let answer: { status: number; body: string } | null = null;
  const request = http.request(`${base}/v1/events`, { method: 'POST', headers: { Authorization: `Bearer ${serviceToken}`, 'Content-Type': 'application/json' } }, (res) => {
    let text = '';
    res.on('data', (c) => (text += c));
    res.on('end', () => (answer = { status: res.statusCode!, body: text }));
  });
  const connected = new Promise<void>((resolve) => request.once('socket', (socket) => socket.once('connect', () => resolve())));
  request.write(body.slice(0, 20));
  await connected;

  api.process.kill('SIGTERM');
  const readiness = await waitFor(async () => {
    const res = await fetch(`${base}/readyz`);
    return res.status === 503 ? res.json() : null;
  }, '/readyz to turn 503');
  expect(readiness).toEqual({ status: 'draining' });
  await waitFor(() => refusesConnections(port), 'the listener to close');
  expect(answer).toBeNull();

  request.end(body.slice(20));
  const finished = await waitFor(() => answer, 'the answer to the request in flight');
  expect(finished.status).toBe(202);
  expect(JSON.parse(finished.body)).toMatchObject({ deliveries: 0 });
  expect(await api.exited).toBe(0);
  expect(api.output()).toContain('API draining');
});

it('worker: SIGTERM mid-attempt lets the attempt finish, logged once, then exits 0', async () => {
  const port = await freePort();
  const api = run('src/api/server.ts', { PORT: String(port) });
  const worker = run('src/worker.ts');
  const base = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${base}/readyz`)).status === 200, 'the API process', 60_000, 200);

  // Pings succeed at once; the event's request is held until the test lets it go.
  receiver = await new Receiver((req) => (req.headers['x-cloudkeep-event'] === 'ping' ? { status: 200 } : 'hang')).start();
  const headers = (token: string) => ({ Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' });
  const created = await fetch(`${base}/v1/webhooks`, { method: 'POST', headers: headers(apiKey), body: JSON.stringify({ url: `${receiver.url}/held`, events: ['secret.created'] }) });
  expect(created.status).toBe(201);
  const ingest = await fetch(`${base}/v1/events`, { method: 'POST', headers: headers(serviceToken), body: JSON.stringify({ event: 'secret.created', data: secretCreatedData }) });
  expect(ingest.status).toBe(202);
  const { id: eventId } = (await ingest.json()) as { id: string };
  await waitFor(() => receiver.requests.some((r) => r.headers['x-cloudkeep-event'] === 'secret.created'), 'the held request', 60_000);

  worker.process.kill('SIGTERM');
  await waitFor(() => worker.output().includes('worker shutting down'), 'the worker to begin its shutdown');
  expect(worker.process.exitCode).toBeNull(); // draining: the attempt is still in flight
  expect(receiver.release()).toBe(1);

  expect(await worker.exited).toBe(0);
  const delivery = await db('deliveries').where({ event_id: eventId }).first();
  expect(delivery.status).toBe('succeeded');
  const attempts = await db('delivery_attempts').where({ delivery_id: delivery.id });
  expect(attempts).toHaveLength(1);
  expect(attempts[0]).toMatchObject({ succeeded: true, response_status: 200 });
  expect(receiver.requests.filter((r) => r.headers['x-cloudkeep-event'] === 'secret.created')).toHaveLength(1);

  api.process.kill('SIGTERM');
  expect(await api.exited).toBe(0);
});
