/**
 * `npm start` as a user runs it: embedded PostgreSQL and the Temporal dev server (with its Web UI) under a
 * data folder, dev credentials written there, Ctrl-C stops everything, and a second start finds its data.
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { interrupt, runNpmStart } from './support/npm-start';
import { freePort } from '../src/dev/ports';

const ROOT = path.resolve(__dirname, '..');
let dataDir: string;
let child: ChildProcess | null = null;
let output: () => string = () => '';


const portOpen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => (socket.destroy(), resolve(true)));
    socket.on('error', () => resolve(false));
  });

async function start(env: Record<string, string>): Promise<string> {
  const started = await runNpmStart(ROOT, { ...process.env, ...env });
  child = started.child;
  output = started.output;
  if (child.exitCode !== null) throw new Error(`npm start exited (${child.exitCode}):\n${started.output()}`);
  return started.output();
}

async function stop(): Promise<number | null> {
  const code = await interrupt(child!);
  child = null;
  return code;
}

beforeAll(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ckw-start-'));
  fs.chmodSync(dataDir, 0o755); // PostgreSQL runs as the postgres user when we are root
});
afterAll(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  fs.rmSync(dataDir, { recursive: true, force: true });
});

it('runs the whole system, prints its URLs, stops on Ctrl-C and finds its data again', async () => {
  const ports = { PORT: await freePort(), POSTGRES_PORT: await freePort(), TEMPORAL_PORT: await freePort(), TEMPORAL_UI_PORT: await freePort() };
  const env = { DATA_DIR: dataDir, NODE_ENV: 'development', LOG_LEVEL: 'warn', ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])) };
  delete process.env.DATABASE_URL;
  delete process.env.TEMPORAL_ADDRESS;

  const banner = await start(env);
  const api = `http://127.0.0.1:${ports.PORT}`;
  expect(banner).toContain(`API            ${api}`);
  expect(banner).toContain(`Temporal UI    http://127.0.0.1:${ports.TEMPORAL_UI_PORT}`);
  expect(banner).toContain(`Credentials    ${path.join(dataDir, 'dev-credentials.json')} (created now)`);

  const credentials = JSON.parse(fs.readFileSync(path.join(dataDir, 'dev-credentials.json'), 'utf8'));
  expect(Object.keys(credentials).sort()).toEqual(['apiKey', 'organizationId', 'serviceToken']);
  expect((await fetch(`${api}/readyz`)).status).toBe(200);
  expect((await fetch(`http://127.0.0.1:${ports.TEMPORAL_UI_PORT}/`)).status).toBe(200);
  const created = await fetch(`${api}/v1/webhooks`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${credentials.apiKey}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ url: 'http://127.0.0.1:9/never', events: ['vault.created'] }),
  });
  expect(created.status).toBe(201);
  const { id } = (await created.json()) as { id: string };
  expect(fs.existsSync(path.join(dataDir, 'temporal.db'))).toBe(true);

  expect(await stop()).toBe(0);
  // Ctrl-C reached the whole process group, as from a terminal, yet the servers went last: nothing lost its
  // database or its Temporal mid-stop, so the stop says only that it stops (warnings would show at LOG_LEVEL=warn).
  expect(output().slice(output().indexOf('Stopping…')).trim()).toBe('Stopping…');
  for (const port of Object.values(ports)) expect(await portOpen(port)).toBe(false);

  const again = await start(env);
  expect(again).toContain(`Credentials    ${path.join(dataDir, 'dev-credentials.json')}\n`);
  const list = await fetch(`${api}/v1/webhooks`, { headers: { Authorization: `Bearer ${credentials.apiKey}` } });
  expect(((await list.json()) as { data: { id: string }[] }).data.map((w) => w.id)).toEqual([id]);
  expect(await stop()).toBe(0);
});
