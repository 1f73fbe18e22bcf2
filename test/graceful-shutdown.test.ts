/**
 * SIGTERM, as Kubernetes sends it, to real API and worker processes (`npm run api`, `npm run worker`):
 * the API turns /readyz red first, stops accepting, finishes the request in flight and exits 0; the worker
 * lets the delivery attempt in flight finish (logged once) before it exits 0. A stop always ends: with an attempt
 * stuck (its receiver never answers and the database hangs for the worker), the worker and `npm start` still exit
 * within their documented time, and the delivery is completed after the restart.
 */
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import { SecretBox } from '../src/domain/secret-box';
import { freePort } from './support/free-port';
import { Receiver } from './support/receiver';
import { secretCreatedData } from './support/stack';
import { waitFor } from './support/wait';
import { createTestDatabase } from './support/test-database';
import { TcpProxy } from './support/tcp-proxy';
import { ALL_IN_ONE_STOP_DEADLINE_MS, WORKER_STOP_DEADLINE_MS } from '../src/shutdown';

const ROOT = path.resolve(__dirname, '..');
const children: ChildProcess[] = [];
let receiver: Receiver;
let db: Knex;
let databaseUrl: string;
let env: Record<string, string>;
let apiKey: string;
let serviceToken: string;

interface Child {
  process: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function run(script: string, extraEnv: Record<string, string> = {}): Child & { exitedAt: () => number | null } {
  const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: ROOT, env: { ...process.env, ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  children.push(child);
  let exitedAt: number | null = null;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => ((exitedAt = Date.now()), resolve(code))));
  return { process: child, output: () => output, exited, exitedAt: () => exitedAt };
}

const refusesConnections = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => (socket.destroy(), resolve(false)));
    socket.on('error', () => resolve(true));
  });

beforeAll(async () => {
  const created = await createTestDatabase('shutdown', { name: 'Drain', email: 'ops@drain.test' });
  ({ db, apiKey, serviceToken } = created);
  databaseUrl = created.databaseUrl;
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

describe('a stop that always ends', () => {
  const headers = (token: string) => ({ Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' });
  let proxy: TcpProxy;
  let stuck: Receiver;

  beforeAll(async () => {
    // The worker reaches PostgreSQL through this proxy: made silent, the database hangs for the worker alone.
    proxy = await TcpProxy.to(new URL(databaseUrl).host).start();
    // Pings are answered at once; the events' requests are never answered.
    stuck = await new Receiver((req) => (req.headers['x-cloudkeep-event'] === 'ping' ? { status: 200 } : 'hang')).start();
  });
  afterAll(async () => {
    await stuck?.stop();
    await proxy?.stop();
  });

  /** A webhook on the stuck receiver and one event whose request is being held there; returns the event's id. */
  async function attemptInFlight(base: string, route: string): Promise<string> {
    // One webhook per test: an event goes to every webhook of the organization, the earlier tests' included.
    await db('webhooks').whereNull('deleted_at').update({ deleted_at: db.fn.now() });
    const created = await fetch(`${base}/v1/webhooks`, { method: 'POST', headers: headers(apiKey), body: JSON.stringify({ url: `${stuck.url}${route}`, events: ['secret.created'] }) });
    expect(created.status).toBe(201);
    const { id: webhookId } = (await created.json()) as { id: string };
    await waitFor(async () => (await db('webhooks').where({ id: webhookId }).first()).status === 'active', 'the ping', 60_000);
    const ingest = await fetch(`${base}/v1/events`, { method: 'POST', headers: headers(serviceToken), body: JSON.stringify({ event: 'secret.created', data: secretCreatedData }) });
    expect(ingest.status).toBe(202);
    const { id: eventId } = (await ingest.json()) as { id: string };
    await waitFor(() => eventRequests(route, eventId).length === 1, 'the held request', 60_000);
    return eventId;
  }
  const eventRequests = (route: string, eventId: string) => stuck.requests.filter((r) => r.path === route && r.body.includes(`"id":"${eventId}"`));

  /** Stops `child` with `signal` and resolves with its exit code and how long it took, or fails at `boundMs`. */
  async function stopWithin(child: ReturnType<typeof run>, signal: NodeJS.Signals, boundMs: number): Promise<{ code: number | null; ms: number }> {
    const from = Date.now();
    child.process.kill(signal);
    const code = await Promise.race([
      child.exited,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`still running ${boundMs / 1000} s after ${signal}:\n${child.output().slice(-3000)}`)), boundMs).unref()),
    ]);
    return { code, ms: child.exitedAt()! - from };
  }

  /** After the restart the cut try is logged as interrupted and sent again; this time it is answered. */
  async function deliveredAfterRestart(route: string, eventId: string) {
    const delivery = await waitFor(async () => {
      const row = await db('deliveries').where({ event_id: eventId }).first();
      return row?.status === 'succeeded' ? row : null;
    }, 'the delivery after the restart', 90_000, 250);
    const attempts = await db('delivery_attempts').where({ delivery_id: delivery.id }).orderBy('number');
    expect(attempts).toMatchObject([
      { succeeded: false, error: expect.stringMatching(/^Interrupted: /) },
      { succeeded: true, response_status: 200 },
    ]);
    expect(delivery).toMatchObject({ attempt_count: 2, stalled_reason: null });
    expect(eventRequests(route, eventId)).toHaveLength(2);
  }

  it('worker: SIGTERM with an attempt stuck on a receiver that never answers and a database that hangs exits within its deadline; restarted, it delivers', async () => {
    const port = await freePort();
    const api = run('src/api/server.ts', { PORT: String(port) });
    const metricsPort = await freePort();
    const worker = run('src/worker.ts', { DATABASE_URL: proxy.postgresUrl(databaseUrl), WORKER_METRICS_PORT: String(metricsPort) });
    const base = `http://127.0.0.1:${port}`;
    await waitFor(async () => (await fetch(`${base}/readyz`)).status === 200, 'the API process', 60_000, 200);
    await waitFor(() => worker.output().includes('worker running'), 'the worker process', 120_000, 200);
    // A worker on its own serves its metrics, the stalled deliveries it counts among them.
    expect(await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text()).toMatch(/^ckw_deliveries_stalled\{reason="database_unavailable"\} 0$/m);
    const eventId = await attemptInFlight(base, '/stuck-worker');

    proxy.set('silent');
    const stopped = await stopWithin(worker, 'SIGTERM', WORKER_STOP_DEADLINE_MS + 5_000);
    expect(stopped.ms).toBeLessThanOrEqual(WORKER_STOP_DEADLINE_MS);
    expect(stopped.code).toBe(0);
    expect(worker.output()).toContain('worker stop forced');

    proxy.set('open');
    stuck.respond = () => ({ status: 200 });
    const restarted = run('src/worker.ts');
    try {
      await deliveredAfterRestart('/stuck-worker', eventId);
    } finally {
      stuck.respond = (req) => (req.headers['x-cloudkeep-event'] === 'ping' ? { status: 200 } : 'hang');
      restarted.process.kill('SIGTERM');
      expect(await restarted.exited).toBe(0);
      api.process.kill('SIGTERM');
      expect(await api.exited).toBe(0);
    }
  });

  it('npm start: Ctrl-C with an attempt stuck the same way ends within the worker\'s 15 s plus the API\'s drain; started again, it delivers', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ckw-stop-'));
    // The workflow bundle the worker processes above cached, so this start does not bundle again.
    if (fs.existsSync(path.join(ROOT, '.data', 'cache'))) fs.cpSync(path.join(ROOT, '.data', 'cache'), path.join(dataDir, 'cache'), { recursive: true });
    const port = await freePort();
    const startEnv = { PORT: String(port), DATA_DIR: dataDir, DATABASE_URL: proxy.postgresUrl(databaseUrl) };
    const base = `http://127.0.0.1:${port}`;
    try {
      const first = run('src/main.ts', startEnv);
      await waitFor(() => first.output().includes('Press Ctrl-C to stop.'), 'npm start', 120_000, 200);
      const eventId = await attemptInFlight(base, '/stuck-all-in-one');

      proxy.set('silent');
      const stopped = await stopWithin(first, 'SIGINT', ALL_IN_ONE_STOP_DEADLINE_MS + 5_000);
      expect(stopped.ms).toBeLessThanOrEqual(ALL_IN_ONE_STOP_DEADLINE_MS);
      expect(stopped.code).toBe(0);
      expect(first.output()).toContain('worker stop forced');
      expect(await refusesConnections(port)).toBe(true);

      proxy.set('open');
      stuck.respond = () => ({ status: 200 });
      const again = run('src/main.ts', startEnv);
      await waitFor(() => again.output().includes('Press Ctrl-C to stop.'), 'npm start again', 120_000, 200);
      await deliveredAfterRestart('/stuck-all-in-one', eventId);
      const calm = await stopWithin(again, 'SIGINT', ALL_IN_ONE_STOP_DEADLINE_MS);
      expect(calm.code).toBe(0);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
