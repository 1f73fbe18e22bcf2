/**
 * Production shape: the API and the worker as separate processes (`npm run api`, `npm run worker`)
 * against one Temporal and one PostgreSQL, delivering an event end to end, then stopping cleanly.
 */
import { ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { SecretBox } from '../src/domain/secret-box';
import { Receiver } from './support/receiver';
import { secretCreatedData } from './support/stack';
import { waitFor } from './support/wait';
import { freePort } from '../src/dev/ports';
import { createTestDatabase } from './support/test-database';

const ROOT = path.resolve(__dirname, '..');
const children: ChildProcess[] = [];
let receiver: Receiver;


function run(script: string, env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  // Drained so a chatty child never blocks on a full pipe; shown if the child fails.
  child.stdout!.resume();
  child.stderr!.on('data', (d) => process.stderr.write(d));
  children.push(child);
  return child;
}

const exited = (child: ChildProcess) => new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code))));

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await receiver?.stop();
});

it('delivers through a separate API process and worker process, which both stop cleanly on SIGTERM', async () => {
  const { db, databaseUrl, apiKey, serviceToken } = await createTestDatabase('separate', { name: 'Split', email: 'ops@split.test' });

  const port = await freePort();
  const env = {
    NODE_ENV: 'development',
    DATABASE_URL: databaseUrl,
    TEMPORAL_ADDRESS: process.env.TEST_TEMPORAL_ADDRESS!,
    TEMPORAL_TASK_QUEUE: `separate-${process.pid}`,
    SECRET_ENCRYPTION_KEY: SecretBox.generateKey(),
    PORT: String(port),
    LOG_LEVEL: 'warn',
  };
  const api = run('src/api/server.ts', env);
  const worker = run('src/worker.ts', env);
  const base = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${base}/readyz`)).status === 200, 'the API process', 60_000, 200);

  receiver = await new Receiver().start();
  const headers = (token: string) => ({ Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' });
  const created = await fetch(`${base}/v1/webhooks`, { method: 'POST', headers: headers(apiKey), body: JSON.stringify({ url: `${receiver.url}/split`, events: ['secret.created'] }) });
  expect(created.status).toBe(201);
  const ingest = await fetch(`${base}/v1/events`, { method: 'POST', headers: headers(serviceToken), body: JSON.stringify({ event: 'secret.created', data: secretCreatedData }) });
  expect(ingest.status).toBe(202);
  const { id } = (await ingest.json()) as { id: string };

  const request = await waitFor(() => receiver.requests.find((r) => r.headers['x-cloudkeep-event'] === 'secret.created'), 'the delivery from the worker process', 60_000);
  expect(JSON.parse(request.body).id).toBe(id);
  await waitFor(async () => (await db('deliveries').where({ event_id: id }).first())?.status === 'succeeded', 'the logged success');

  api.kill('SIGTERM');
  worker.kill('SIGTERM');
  expect(await exited(api)).toBe(0);
  expect(await exited(worker)).toBe(0);
  await db.destroy();
});
