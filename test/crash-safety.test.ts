/**
 * What a crash or an outage must not do: re-send a delivery that already ran (a lost dispatch mark), hide an
 * attempt a worker crash cut short, or hold ingest hostage while Temporal is unreachable.
 */
import { ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { Writable } from 'node:stream';
import { Client } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import pino from 'pino';
import { INTERRUPTED_ATTEMPT_ERROR } from '../src/activities/delivery';
import { OutboxDispatcher } from '../src/dispatch/outbox-dispatcher';
import { WorkflowSlots } from '../src/dispatch/workflow-slots';
import { deliveryWorkflowId } from '../src/workflows/messages';
import { Receiver } from './support/receiver';
import { createStack, Org, secretCreatedData, Stack } from './support/stack';
import { waitFor } from './support/wait';

const ROOT = path.resolve(__dirname, '..');
let stack: Stack;
let org: Org;
let receiver: Receiver;
const children: ChildProcess[] = [];

beforeAll(async () => {
  stack = await createStack();
  org = await stack.createOrg();
  receiver = await new Receiver().start();
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await receiver.stop();
  await stack.close();
});

async function webhookTo(route: string): Promise<string> {
  const res = await stack.api('POST', '/v1/webhooks', org.apiKey, { url: `${receiver.url}${route}`, events: ['secret.created'] });
  expect(res.status).toBe(201);
  await waitFor(() => receiver.requests.find((r) => r.path === route && r.headers['x-cloudkeep-event'] === 'ping'), `the ping to ${route}`);
  return res.body.id;
}

const deliveriesTo = (route: string) => receiver.requests.filter((r) => r.path === route && r.headers['x-cloudkeep-event'] === 'secret.created');

describe('a delivery that already ran is never started again by a re-dispatch', () => {
  it('neither by the same event id ingested again after its dispatch mark was lost, nor by the outbox claiming it again', async () => {
    const onceWebhook = await webhookTo('/once');
    const first = await stack.api('POST', '/v1/events', org.serviceToken, { id: 'evt_once', event: 'secret.created', data: secretCreatedData });
    expect(first.status).toBe(202);
    await waitFor(() => deliveriesTo('/once').length === 1, 'the delivery');
    const [{ id: deliveryId }] = await stack.db('deliveries').where({ event_id: 'evt_once', webhook_id: onceWebhook });
    await waitFor(async () => (await stack.db('deliveries').where({ id: deliveryId }).first()).status === 'succeeded', 'the logged success');
    await stack.client.workflow.getHandle(deliveryWorkflowId(deliveryId)).result();
    const run = await stack.client.workflow.getHandle(deliveryWorkflowId(deliveryId)).describe();
    expect(run.status.name).toBe('COMPLETED');

    // The state a crash between the starts and the mark leaves behind: the outbox claims the event again.
    await stack.db('events').where({ id: 'evt_once' }).update({ dispatched_at: null });
    const again = await stack.api('POST', '/v1/events', org.serviceToken, { id: 'evt_once', event: 'secret.created', data: secretCreatedData });
    expect(again).toMatchObject({ status: 202, body: { id: 'evt_once', duplicate: true, deliveries: 1 } });
    await waitFor(async () => (await stack.db('events').where({ id: 'evt_once' }).first()).dispatched_at !== null, 'the outbox to dispatch the event again');

    // The re-dispatch has returned: a new run would exist by now. The latest run is still the first one.
    const latest = await stack.client.workflow.getHandle(deliveryWorkflowId(deliveryId)).describe();
    expect(latest.runId).toBe(run.runId);
    expect((await stack.db('events').where({ id: 'evt_once' }).first()).dispatched_at).not.toBeNull();
    expect(await stack.db('delivery_attempts').where({ delivery_id: deliveryId }).count('* as n').first()).toEqual({ n: '1' });
    expect(deliveriesTo('/once')).toHaveLength(1);
  });
});

describe('an attempt cut short by a worker crash', () => {
  /** A worker process on the stack's task queue, once it says it is running. */
  async function startWorkerProcess(): Promise<ChildProcess> {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/worker.ts'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        NODE_ENV: 'development',
        DATA_DIR: stack.config.dataDir,
        DATABASE_URL: stack.config.databaseUrl!,
        TEMPORAL_ADDRESS: process.env.TEST_TEMPORAL_ADDRESS!,
        TEMPORAL_TASK_QUEUE: stack.taskQueue,
        SECRET_ENCRYPTION_KEY: stack.config.secretEncryptionKey!,
        ALLOW_PRIVATE_TARGETS: 'true',
        LOG_LEVEL: 'info',
      },
    });
    let output = '';
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    children.push(child);
    // Its first start may bundle the workflow code (cached after): wait for it rather than race it.
    await waitFor(() => output.includes('worker running') || child.exitCode !== null, 'the worker process to run', 120_000, 100).catch((err) => {
      throw new Error(`${err.message}\n${output}`);
    });
    if (child.exitCode !== null) throw new Error(`the worker process exited (${child.exitCode}):\n${output}`);
    return child;
  }

  it('is logged as interrupted and sent again within seconds by the next worker, and the delivery succeeds', async () => {
    const cutWebhook = await webhookTo('/cut');
    // From here on, deliveries run in worker processes that can be killed.
    await stack.stopWorker();
    const doomed = await startWorkerProcess();
    let held = 0;
    receiver.respond = (req) => (req.path === '/cut' && req.headers['x-cloudkeep-event'] === 'secret.created' && held++ === 0 ? 'hang' : { status: 200, body: 'ok' });

    const ingest = await stack.api('POST', '/v1/events', org.serviceToken, { id: 'evt_cut', event: 'secret.created', data: secretCreatedData });
    expect(ingest.status).toBe(202);
    await waitFor(() => deliveriesTo('/cut').length === 1, 'the request in flight', 60_000);
    const [{ id: deliveryId }] = await stack.db('deliveries').where({ event_id: 'evt_cut', webhook_id: cutWebhook });
    // Written before the request went out, so the log shows it while it is in flight.
    expect(await stack.db('delivery_attempts').where({ delivery_id: deliveryId }).first()).toMatchObject({ number: 1, succeeded: null });

    doomed.kill('SIGKILL');
    await new Promise((r) => doomed.once('exit', r));
    await startWorkerProcess();

    // The old attempt timeout let a re-send wait a full minute; the workflow task now times out in 10 s.
    await waitFor(() => deliveriesTo('/cut').length === 2, 'the re-send by the next worker', 45_000);
    await waitFor(async () => (await stack.db('deliveries').where({ id: deliveryId }).first()).status === 'succeeded', 'the logged success', 30_000);
    const attempts = await stack.db('delivery_attempts').where({ delivery_id: deliveryId }).orderBy('number');
    expect(attempts).toHaveLength(2);
    expect(attempts[0]).toMatchObject({ number: 1, succeeded: false, error: INTERRUPTED_ATTEMPT_ERROR });
    expect(attempts[1]).toMatchObject({ number: 2, succeeded: true, response_status: 200 });
    expect(attempts[1].step_key).toBe(attempts[0].step_key);
    // Both requests carried the same delivery id, so the receiver can tell the second is a repeat.
    expect(new Set(deliveriesTo('/cut').map((r) => r.headers['x-cloudkeep-delivery']))).toEqual(new Set([deliveryId]));
    const detail = await stack.api('GET', `/v1/deliveries/${deliveryId}`, org.apiKey);
    expect(detail.body.attempts.map((a: { succeeded: boolean }) => a.succeeded)).toEqual([false, true]);
    // The count agrees with the list and the receiver: the cut try counts (it used to say 1).
    expect(detail.body.attemptCount).toBe(detail.body.attempts.length);
    expect(detail.body.attemptCount).toBe(deliveriesTo('/cut').length);
  });
});

describe('ingest while Temporal is unreachable', () => {
  /** A TCP proxy to Temporal that can go silent: connections are accepted and data is swallowed, as with a hung server. */
  async function blackholeableProxy(target: string) {
    const [host, port] = target.split(':');
    let silent = false;
    const sockets = new Set<net.Socket>();
    const server = net.createServer((client) => {
      sockets.add(client);
      const upstream = net.connect(Number(port), host);
      sockets.add(upstream);
      client.on('data', (d) => !silent && upstream.write(d));
      upstream.on('data', (d) => !silent && client.write(d));
      const close = () => (client.destroy(), upstream.destroy());
      client.on('error', close).on('close', close);
      upstream.on('error', close).on('close', close);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return {
      address: `127.0.0.1:${(server.address() as net.AddressInfo).port}`,
      goSilent: () => {
        silent = true;
        for (const s of sockets) s.destroy(); // live streams cut: the client reconnects into the silence
        sockets.clear();
      },
      resume: () => void (silent = false),
      close: () => new Promise((r) => (server.close(r), [...sockets].forEach((s) => s.destroy()))),
    };
  }

  it('accepts events while Temporal is unreachable, names Temporal as the failing part, and delivers once it is back', async () => {
    await webhookTo('/outage');
    // Only the dispatcher below, on the proxied connection, drains the outbox while Temporal is silent.
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await Promise.all(children.map((c) => (c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once('exit', r)) : null)));
    await stack.stopWorker();
    const proxy = await blackholeableProxy(process.env.TEST_TEMPORAL_ADDRESS!);
    const connection = await NativeConnection.connect({ address: proxy.address });
    const client = new Client({ connection, namespace: 'default' });
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) }));
    const outbox = new OutboxDispatcher({ db: stack.db, client, taskQueue: stack.taskQueue, logger, slots: new WorkflowSlots(10), startOptions: { deadlineMs: 1500 } });
    try {
      proxy.goSilent();
      await outbox.start();
      // Ingest never calls Temporal: it stores the event and answers.
      const res = await stack.api('POST', '/v1/events', org.serviceToken, { id: 'evt_outage', event: 'secret.created', data: secretCreatedData });
      expect(res.status).toBe(202);
      const logged = await waitFor(() => lines.map((l) => JSON.parse(l)).find((l) => String(l.msg).includes('dispatch failed')), 'the dispatcher to name the failing part');
      expect(logged).toMatchObject({ component: 'Temporal', msg: expect.stringContaining('Temporal unavailable') });
      expect((await stack.db('events').where({ id: 'evt_outage' }).first()).dispatched_at).toBeNull();

      proxy.resume();
      await stack.startWorker();
      await waitFor(() => deliveriesTo('/outage').length === 1, 'the delivery once Temporal is back');
      await waitFor(async () => (await stack.db('events').where({ id: 'evt_outage' }).first()).dispatched_at !== null, 'the dispatch mark');
    } finally {
      await outbox.stop();
      await connection.close();
      await proxy.close();
    }
  });
});
