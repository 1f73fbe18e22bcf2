/**
 * `npm run test:cluster`: the production shape end to end. Runs `npm run cluster` as a user would (the real
 * Temporal server on PostgreSQL with SQL visibility, the Temporal UI, two workers, two APIs), then:
 * events through either API reach a loopback receiver signed; kill -9 of one worker mid-load loses nothing;
 * a visibility query `WebhookId = "…"` (client and UI server) finds the deliveries; a webhook's rate limit holds
 * across both workers; an ingest token's and an address's API limits hold across both APIs; SIGTERM stops it all.
 */
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { createDb } from '../../src/db/knex';
import { createKey } from '../../src/dev/credentials';
import { isListening } from '../../src/dev/ports';
import { EMBEDDED_POSTGRES_PASSWORD } from '../../src/dev/postgres-password';
import { secretCreatedData } from '../support/stack';
import { verifyWebhook } from '../support/verify-webhook';
import { waitFor } from '../support/wait';

const ROOT = path.resolve(__dirname, '../..');

interface Banner {
  apis: { url: string; pid: number }[];
  workerPids: number[];
  uiUrl: string;
  temporalAddress: string;
  /** The embedded PostgreSQL the cluster runs on (the banner masks its password; it is the embedded server's). */
  databaseUrl: string;
  credentials: { organizationId: string; apiKey: string; serviceToken: string };
}

/**
 * Small API limits for the whole cluster, so that spending one takes a moment. The other tests stay below them: they
 * ingest 74 events with the development token and never fail authentication.
 */
const INGEST_BURST = 120;
const AUTH_FAILURES_PER_MINUTE = 10;
const CLUSTER_LIMITS = { INGEST_RATE_LIMIT_BURST: String(INGEST_BURST), INGEST_RATE_LIMIT_PER_SECOND: '1', AUTH_FAILURE_LIMIT_PER_MINUTE: String(AUTH_FAILURES_PER_MINUTE) };

interface HeldRequest {
  body: string;
  headers: http.IncomingHttpHeaders;
  res: http.ServerResponse;
  /** The sender went away before an answer: its worker was killed mid-attempt. */
  aborted: boolean;
}

/** A real loopback endpoint that holds `secret.created` requests until `release()`, and answers pings at once. */
class GatedReceiver {
  readonly held: HeldRequest[] = [];
  readonly answered: { body: string; headers: http.IncomingHttpHeaders }[] = [];
  private open = false;
  private server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const request: HeldRequest = { body, headers: req.headers, res, aborted: false };
      if (this.open || req.headers['x-cloudkeep-event'] !== 'secret.created') return this.answer(request);
      this.held.push(request);
      req.socket.once('close', () => void (request.aborted ||= !res.writableEnded));
    });
  });
  url = '';

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  private answer(request: HeldRequest): void {
    if (request.res.writableEnded || request.res.destroyed) return;
    // Counted once the answer is out: a request whose sender died is never counted as delivered.
    request.res.once('finish', () => this.answered.push({ body: request.body, headers: request.headers }));
    request.res.writeHead(200).end('ok');
  }

  release(): void {
    this.open = true;
    for (const request of this.held) if (!request.aborted) this.answer(request);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

/** A real loopback endpoint that answers at once and notes when each request arrived. */
class TimedReceiver {
  readonly arrivals: { at: number; event: string; delivery: string }[] = [];
  private server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      this.arrivals.push({ at: Date.now(), event: String(req.headers['x-cloudkeep-event']), delivery: String(req.headers['x-cloudkeep-delivery']) });
      res.writeHead(200).end('ok');
    });
  });
  url = '';

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

/** The most arrivals in any 1-second window (sliding over the arrival times). */
function busiestSecond(times: number[]): number {
  const at = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < at.length; i++) {
    while (at[i] - at[j] >= 1000) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

let cluster: ChildProcess;
let output = '';
let banner: Banner;
let client: Client;
const receivers: { stop(): Promise<void> }[] = [];
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ckw-cluster-'));
fs.chmodSync(dataDir, 0o755);

function parseBanner(text: string): Banner {
  const apis = [...text.matchAll(/^\s+api-\d+\s+(http:\/\/127\.0\.0\.1:\d+)\s.*pid (\d+)$/gm)].map((m) => ({ url: m[1], pid: Number(m[2]) }));
  const workerPids = [...text.matchAll(/^\s+worker-\d+\s+.*pid (\d+)$/gm)].map((m) => Number(m[1]));
  const uiUrl = /^\s+Temporal UI\s+(http:\/\/\S+)$/m.exec(text)?.[1];
  const temporalAddress = /^\s+Temporal\s+(127\.0\.0\.1:\d+) /m.exec(text)?.[1];
  const credentialsFile = /^\s+Credentials\s+(\S+)$/m.exec(text)?.[1];
  const maskedDatabaseUrl = /^\s+PostgreSQL\s+(postgres:\/\/\S+)/m.exec(text)?.[1];
  if (!uiUrl || !temporalAddress || !credentialsFile || !maskedDatabaseUrl) throw new Error(`Unexpected banner:\n${text}`);
  const databaseUrl = maskedDatabaseUrl.replace(':****@', `:${EMBEDDED_POSTGRES_PASSWORD}@`);
  return { apis, workerPids, uiUrl, temporalAddress, databaseUrl, credentials: JSON.parse(fs.readFileSync(credentialsFile, 'utf8')) };
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function api(base: string, method: string, route: string, token: string, body?: unknown) {
  const res = await fetch(`${base}${route}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any };
}

async function createWebhook(base: string, receiver: GatedReceiver): Promise<{ id: string; secret: string }> {
  const created = await api(base, 'POST', '/v1/webhooks', banner.credentials.apiKey, { url: `${receiver.url}/hook`, events: ['secret.created'] });
  expect(created.status).toBe(201);
  const { id, secret } = created.body as { id: string; secret: string };
  await waitFor(async () => (await api(base, 'GET', `/v1/webhooks/${id}`, banner.credentials.apiKey)).body.status === 'active', 'the webhook to pass its ping', 60_000, 250);
  return { id, secret };
}

async function ingest(base: string, id: string) {
  const res = await api(base, 'POST', '/v1/events', banner.credentials.serviceToken, { id, event: 'secret.created', data: secretCreatedData });
  expect(res.status).toBe(202);
}

async function deliveriesOf(base: string, webhookId: string): Promise<{ id: string; eventId: string; status: string; temporalUrl: string }[]> {
  const res = await api(base, 'GET', `/v1/webhooks/${webhookId}/deliveries?event=secret.created&limit=100`, banner.credentials.apiKey);
  expect(res.status).toBe(200);
  return res.body.data;
}

beforeAll(async () => {
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, NODE_ENV: 'development', LOG_LEVEL: 'warn', ...CLUSTER_LIMITS };
  for (const name of ['DATABASE_URL', 'TEMPORAL_ADDRESS', 'TEMPORAL_API_KEY', 'TEMPORAL_TLS', 'PUBLIC_BASE_URL', 'SECRET_ENCRYPTION_KEY']) delete env[name];
  cluster = spawn(process.execPath, ['--import', 'tsx', 'src/cluster.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  cluster.stdout!.on('data', (d) => (output += d));
  cluster.stderr!.on('data', (d) => (output += d));
  await waitFor(() => output.includes('Press Ctrl-C') || cluster.exitCode !== null, 'the cluster banner', 8 * 60_000, 500);
  if (cluster.exitCode !== null) throw new Error(`npm run cluster exited (${cluster.exitCode}):\n${output}`);
  banner = parseBanner(output);
  client = new Client({ connection: await Connection.connect({ address: banner.temporalAddress }) });
}, 10 * 60_000);

afterAll(async () => {
  await client?.connection.close();
  if (cluster && cluster.exitCode === null) {
    // Only if a test failed before its own clean stop: nothing of ours may outlive the run.
    cluster.kill('SIGTERM');
    await waitFor(() => cluster.exitCode !== null, 'the cluster to stop', 120_000, 250).catch(() => cluster.kill('SIGKILL'));
  }
  for (const receiver of receivers) await receiver.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
}, 180_000);

it('starts two API processes, two worker processes polling Temporal, and the Temporal UI', async () => {
  expect(banner.apis).toHaveLength(2);
  expect(banner.workerPids).toHaveLength(2);
  for (const { url } of banner.apis) expect((await fetch(`${url}/readyz`)).status).toBe(200);
  const ui = await fetch(banner.uiUrl);
  expect(ui.status).toBe(200);
  expect(await ui.text()).toMatch(/<html/i);
});

it('delivers events ingested through either API, signed so that verifyWebhook accepts them', async () => {
  const receiver = await new GatedReceiver().start();
  receivers.push(receiver);
  receiver.release();
  const [first, second] = banner.apis;
  const { id: webhookId, secret } = await createWebhook(first.url, receiver);
  await ingest(first.url, 'evt_via_api_1');
  await ingest(second.url, 'evt_via_api_2');

  for (const eventId of ['evt_via_api_1', 'evt_via_api_2']) {
    const request = await waitFor(() => receiver.answered.find((r) => r.headers['x-cloudkeep-event'] === 'secret.created' && JSON.parse(r.body).id === eventId), `${eventId} at the receiver`, 60_000);
    expect(verifyWebhook(request.body, request.headers['x-cloudkeep-signature-256'] as string, secret)).toBe(true);
  }
  // Either API reads the same Delivery Log, linked to this cluster's Temporal UI.
  const logged = await waitFor(async () => {
    const rows = await deliveriesOf(second.url, webhookId);
    return rows.length === 2 && rows.every((r) => r.status === 'succeeded') ? rows : null;
  }, 'both deliveries logged as succeeded', 60_000, 250);
  for (const row of logged) expect(row.temporalUrl.startsWith(banner.uiUrl)).toBe(true);
});

it("holds a webhook's rate limit across both workers: 60 events at 5/s, no second above 6", async () => {
  const EVENTS = 60;
  const receiver = await new TimedReceiver().start();
  receivers.push(receiver);
  const base = banner.apis[0].url;
  const created = await api(base, 'POST', '/v1/webhooks', banner.credentials.apiKey, { url: `${receiver.url}/limited`, events: ['secret.created'], rateLimit: 5 });
  expect(created.status).toBe(201);
  expect(created.body.rateLimit).toBe(5);
  const webhookId: string = created.body.id;
  await waitFor(async () => (await api(base, 'GET', `/v1/webhooks/${webhookId}`, banner.credentials.apiKey)).body.status === 'active', 'the webhook to pass its ping', 60_000, 250);

  // Through both APIs, 6 requests in flight: the burst is far faster than 5/s.
  let next = 0;
  const lane = async () => {
    while (next < EVENTS) {
      const i = next++;
      await ingest(banner.apis[i % 2].url, `evt_paced_${i}`);
    }
  };
  await Promise.all(Array.from({ length: 6 }, lane));

  const sent = () => receiver.arrivals.filter((a) => a.event === 'secret.created');
  await waitFor(() => sent().length >= EVENTS, `${EVENTS} deliveries at the receiver`, 120_000, 250);
  const times = sent().map((a) => a.at);
  expect(sent()).toHaveLength(EVENTS);
  expect(new Set(sent().map((a) => a.delivery)).size).toBe(EVENTS);
  expect(Math.max(...times) - Math.min(...times)).toBeGreaterThanOrEqual(((EVENTS - 1) / 5) * 1000 - 500);
  expect(busiestSecond(times)).toBeLessThanOrEqual(6);

  // Both workers sent some of them: the workflow task that made each attempt names its worker.
  const workers = new Set<string>();
  for (const { delivery } of sent()) {
    const history = await client.workflow.getHandle(`delivery:${delivery}`).fetchHistory();
    // The last attempt (the one that sent) is the last marker; the task completed just before it recorded it.
    const events = history.events!;
    let marker = events.length - 1;
    while (marker >= 0 && !events[marker].markerRecordedEventAttributes) marker--;
    const task = events.slice(0, marker).reverse().find((e) => e.workflowTaskCompletedEventAttributes);
    if (task) workers.add(task.workflowTaskCompletedEventAttributes!.identity!);
  }
  expect(workers.size).toBe(2);
}, 240_000);

describe('kill -9 of one worker mid-load', () => {
  const EVENTS = 12;
  let webhookId: string;
  let secret: string;
  let receiver: GatedReceiver;
  const eventIds = Array.from({ length: EVENTS }, (_, i) => `evt_failover_${i}`);

  it('the other worker finishes every delivery: none is lost', async () => {
    receiver = await new GatedReceiver().start();
    receivers.push(receiver);
    ({ id: webhookId, secret } = await createWebhook(banner.apis[1].url, receiver));
    // Alternate the two APIs; the receiver holds every attempt, so all are in flight on the two workers.
    for (const [i, id] of eventIds.entries()) await ingest(banner.apis[i % 2].url, id);
    await waitFor(() => receiver.held.length >= EVENTS, `${EVENTS} attempts in flight`, 60_000);

    const [victim, survivor] = banner.workerPids;
    process.kill(victim, 'SIGKILL');
    await waitFor(() => !alive(victim), 'the killed worker to be gone', 10_000);
    // The killed worker had attempts in flight: their connections dropped unanswered. Only then the receiver answers.
    await waitFor(() => receiver.held.some((r) => r.aborted), 'an attempt cut by the kill', 10_000);
    receiver.release();

    // Every delivery still ends succeeded, each event reaching the receiver signed.
    await waitFor(async () => {
      const rows = await deliveriesOf(banner.apis[0].url, webhookId);
      return rows.length === EVENTS && rows.every((r) => r.status === 'succeeded');
    }, 'every delivery to succeed', 240_000, 1000);
    for (const eventId of eventIds) {
      const request = receiver.answered.find((r) => JSON.parse(r.body).id === eventId);
      expect(request).toBeDefined();
      expect(verifyWebhook(request!.body, request!.headers['x-cloudkeep-signature-256'] as string, secret)).toBe(true);
    }
    expect(alive(survivor)).toBe(true);
  }, 360_000);

  it('a visibility query WebhookId = "…" finds the deliveries, through the client and through the UI server', async () => {
    const deliveries = await deliveriesOf(banner.apis[0].url, webhookId);
    const expected = deliveries.map((d) => `delivery:${d.id}`).sort();
    const query = `WebhookId = "${webhookId}" AND EventType = "secret.created"`;
    const found = await waitFor(async () => {
      const ids: string[] = [];
      for await (const wf of client.workflow.list({ query })) ids.push(wf.workflowId);
      return ids.length === EVENTS && ids.sort();
    }, 'the deliveries in SQL visibility', 60_000, 500);
    expect(found).toEqual(expected);

    const ui = await fetch(`${banner.uiUrl}/api/v1/namespaces/default/workflows?query=${encodeURIComponent(query)}`);
    expect(ui.status).toBe(200);
    const { executions } = (await ui.json()) as { executions: { execution: { workflowId: string } }[] };
    expect(executions.map((e) => e.execution.workflowId).sort()).toEqual(expected);
  });
});

describe('API rate limits, counted in PostgreSQL for both APIs', () => {
  /** `count` requests alternating between the two APIs; each answer's status, and Retry-After and type of a 429. */
  async function alternate(count: number, method: string, route: string, authorization: (i: number) => string, body?: unknown) {
    const answers: { status: number; retryAfter: string | null; contentType: string | null }[] = [];
    for (let i = 0; i < count; i++) {
      const res = await fetch(`${banner.apis[i % 2].url}${route}`, {
        method,
        headers: { Authorization: authorization(i), 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      await res.arrayBuffer();
      answers.push({ status: res.status, retryAfter: res.headers.get('retry-after'), contentType: res.headers.get('content-type') });
    }
    return answers;
  }

  function expectRefusedByBoth(refused: { status: number; retryAfter: string | null; contentType: string | null }[]) {
    // Both APIs refuse, each as problem+json with the wait.
    expect(refused.length).toBeGreaterThanOrEqual(2);
    for (const answer of refused) {
      expect(answer.contentType).toContain('application/problem+json');
      expect(Number(answer.retryAfter)).toBeGreaterThanOrEqual(1);
    }
  }

  it(`a new ingest token gets its burst of ${INGEST_BURST} once through the two APIs, not once through each`, async () => {
    const db = createDb(banner.databaseUrl, { min: 0, max: 1 });
    let token: string;
    try {
      token = await createKey(db, banner.credentials.organizationId, 'service', 'cluster rate-limit test');
    } finally {
      await db.destroy();
    }
    // No webhook takes secret.updated: the events are stored and delivered nowhere.
    const data = { vaultId: 'vlt_limits', vaultName: 'Limits', secretId: 'sec_1', secretKey: 'K' };
    const answers = await alternate(INGEST_BURST + 4, 'POST', '/v1/events', () => `Bearer ${token}`, { event: 'secret.updated', data });
    expect(answers.map((a) => a.status)).toEqual([...Array(INGEST_BURST).fill(202), 429, 429, 429, 429]);
    expectRefusedByBoth(answers.slice(INGEST_BURST));
  });

  it(`failed authentications from one address get ${AUTH_FAILURES_PER_MINUTE} in total across the two APIs, then 429`, async () => {
    const answers = await alternate(AUTH_FAILURES_PER_MINUTE + 4, 'GET', '/v1/webhooks', (i) => `Bearer ck_admin_guess${String(i).padStart(40, '0')}`);
    expect(answers.map((a) => a.status)).toEqual([...Array(AUTH_FAILURES_PER_MINUTE).fill(401), 429, 429, 429, 429]);
    expectRefusedByBoth(answers.slice(AUTH_FAILURES_PER_MINUTE));
  });
});

it('stops every process it started on SIGTERM, exiting 0', async () => {
  const temporalPort = Number(banner.temporalAddress.split(':')[1]);
  const pids = [...banner.apis.map((a) => a.pid), ...banner.workerPids];
  cluster.kill('SIGTERM');
  const code = await new Promise<number | null>((resolve) => (cluster.exitCode !== null ? resolve(cluster.exitCode) : cluster.once('exit', resolve)));
  expect(code).toBe(0);
  expect(pids.filter(alive)).toEqual([]);
  expect(await isListening(temporalPort)).toBe(false);
  expect(await isListening(Number(new URL(banner.uiUrl).port))).toBe(false);
}, 180_000);
