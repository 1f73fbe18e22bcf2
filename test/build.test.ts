/**
 * Production artefacts: `npm run build` compiles to an out dir with the prebuilt workflow bundle, and the
 * production commands (`node <out>/worker.js`, `node <out>/api/server.js`) deliver an event end to end.
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { SecretBox } from '../src/domain/secret-box';
import { freePort } from './support/free-port';
import { Receiver } from './support/receiver';
import { secretCreatedData } from './support/stack';
import { waitFor } from './support/wait';
import { createTestDatabase } from './support/test-database';
import { historyFromFile } from './support/history-file';
import { Worker } from '@temporalio/worker';
import { installRuntime } from '../src/temporal-connection';

const ROOT = path.resolve(__dirname, '..');
// Inside the repository, so the compiled files find node_modules as dist/ does.
const OUT = path.join(ROOT, `.build-test-${process.pid}`);
const children: ChildProcess[] = [];
let receiver: Receiver;

beforeAll(installRuntime);
afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await receiver?.stop();
  fs.rmSync(OUT, { recursive: true, force: true });
});

it('builds dist with a prebuilt workflow bundle, and node worker.js + node api/server.js deliver from it', async () => {
  execFileSync('npm', ['run', '--silent', 'build', '--', OUT], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  for (const file of ['worker.js', 'api/server.js', 'workflow-bundle.js', 'workflow-bundle-traced.js', 'web/settings.html']) expect(fs.existsSync(path.join(OUT, file))).toBe(true);

  const { db, databaseUrl, apiKey, serviceToken } = await createTestDatabase('build', { name: 'Built', email: 'ops@built.test' });

  const port = await freePort();
  const env = {
    ...process.env,
    NODE_ENV: 'development',
    DATABASE_URL: databaseUrl,
    TEMPORAL_ADDRESS: process.env.TEST_TEMPORAL_ADDRESS!,
    TEMPORAL_TASK_QUEUE: `built-${process.pid}`,
    SECRET_ENCRYPTION_KEY: SecretBox.generateKey(),
    PORT: String(port),
    LOG_LEVEL: 'info',
  };
  const start = (file: string) => {
    const child = spawn(process.execPath, [path.join(OUT, file)], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    children.push(child);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    return { child, output: () => output, exited };
  };
  const worker = start('worker.js');
  const api = start('api/server.js');
  const base = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${base}/readyz`)).status === 200, 'the built API', 60_000, 200);
  const running = await waitFor(() => worker.output().split('\n').find((l) => l.includes('worker running')), 'the built worker', 60_000, 100);
  expect(JSON.parse(running).workflowCode).toBe('prebuilt bundle');

  receiver = await new Receiver().start();
  const headers = (token: string) => ({ Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' });
  const created = await fetch(`${base}/v1/webhooks`, { method: 'POST', headers: headers(apiKey), body: JSON.stringify({ url: `${receiver.url}/built`, events: ['secret.created'] }) });
  expect(created.status).toBe(201);
  const ingest = await fetch(`${base}/v1/events`, { method: 'POST', headers: headers(serviceToken), body: JSON.stringify({ event: 'secret.created', data: secretCreatedData }) });
  expect(ingest.status).toBe(202);
  const { id } = (await ingest.json()) as { id: string };
  await waitFor(async () => (await db('deliveries').where({ event_id: id }).first())?.status === 'succeeded', 'the delivery through the built processes', 60_000);
  expect(receiver.requests.filter((r) => r.headers['x-cloudkeep-event'] === 'secret.created')).toHaveLength(1);

  api.child.kill('SIGTERM');
  worker.child.kill('SIGTERM');
  expect(await api.exited).toBe(0);
  expect(await worker.exited).toBe(0);
  await db.destroy();
});

it('ships tracing in the build: the compiled SDK set-up starts, and the traced bundle replays a delivery', async () => {
  // (The build is the first test's.) Compiled, the lazily required SDK module and the package version it reads resolve.
  const started = execFileSync(
    process.execPath,
    ['-e', `const t = require('./tracing').startTracing(require('./config').loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' }).tracing); process.stdout.write(typeof t.requestSpans); t.shutdown();`],
    { cwd: OUT, encoding: 'utf8' },
  );
  expect(started).toBe('function');
  const history = historyFromFile(fs.readFileSync(path.join(ROOT, 'test/histories/delivery-retry.json'), 'utf8'));
  const sinks = { exporter: { export: { fn: () => undefined } } };
  await expect(Worker.runReplayHistory({ workflowBundle: { codePath: path.join(OUT, 'workflow-bundle-traced.js') }, sinks, replayName: 'built-traced' }, history)).resolves.toBeUndefined();
});
