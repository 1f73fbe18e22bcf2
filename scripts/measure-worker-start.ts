/**
 * `node --import tsx scripts/measure-worker-start.ts`: how long a worker takes to start, from the prebuilt
 * bundle (`node dist/worker.js` after `npm run build`) and bundled from source (`npm run worker` under tsx),
 * against a real PostgreSQL and Temporal dev server started here. Prints the median of 3 runs of each:
 * Worker.create alone, and the whole process from spawn to its "worker running" line.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { NativeConnection, Worker } from '@temporalio/worker';
import globalSetup from '../test/support/global-setup';
import globalTeardown from '../test/support/global-teardown';
import { createDb } from '../src/db/knex';
import { SecretBox } from '../src/domain/secret-box';
import { prebuiltWorkflowBundlePath } from '../src/workflow-bundle-file';
import { installRuntime } from '../src/temporal-connection';
import { runScript } from '../src/dev/run-script';

const ROOT = path.resolve(__dirname, '..');
const RUNS = 3;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function timeWorkerCreate(address: string, mode: 'prebuilt' | 'source'): Promise<number> {
  const connection = await NativeConnection.connect({ address });
  const started = performance.now();
  const worker = await Worker.create({
    connection,
    taskQueue: `measure-${mode}-${Date.now()}`,
    ...(mode === 'prebuilt' ? { workflowBundle: { codePath: prebuiltWorkflowBundlePath(path.join(ROOT, 'dist')) } } : { workflowsPath: require.resolve('../src/workflows') }),
    bundlerOptions: { logger: { log() {}, info() {}, warn() {}, error() {}, debug() {}, trace() {} } as never },
  } as never);
  const ms = performance.now() - started;
  const running = worker.run();
  worker.shutdown();
  await running;
  await connection.close();
  return ms;
}

function timeProcess(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    let ms: number | null = null;
    child.stdout!.on('data', (d) => {
      out += d;
      if (ms === null && out.includes('worker running')) {
        ms = performance.now() - started;
        child.kill('SIGTERM');
      }
    });
    child.once('exit', (code) => (ms !== null ? resolve(ms) : reject(new Error(`worker exited with ${code} before running:\n${out}`))));
  });
}

async function main(): Promise<void> {
  if (!fs.existsSync(prebuiltWorkflowBundlePath(path.join(ROOT, 'dist')))) throw new Error('Run `npm run build` first');
  installRuntime();
  await globalSetup();
  try {
    const address = process.env.TEST_TEMPORAL_ADDRESS!;
    const admin = createDb(process.env.TEST_POSTGRES_URL!, { min: 0, max: 1 });
    await admin.raw('CREATE DATABASE ckw_measure');
    await admin.destroy();
    const env = {
      ...process.env,
      NODE_ENV: 'development',
      DATABASE_URL: process.env.TEST_POSTGRES_URL!.replace(/\/postgres$/, '/ckw_measure'),
      TEMPORAL_ADDRESS: address,
      TEMPORAL_TASK_QUEUE: 'measure',
      SECRET_ENCRYPTION_KEY: SecretBox.generateKey(),
      LOG_LEVEL: 'info',
    };
    const rows: [string, number, number][] = [];
    for (const mode of ['prebuilt', 'source'] as const) {
      const create: number[] = [];
      const whole: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        create.push(await timeWorkerCreate(address, mode));
        whole.push(await timeProcess(mode === 'prebuilt' ? ['dist/worker.js'] : ['--import', 'tsx', 'src/worker.ts'], env));
      }
      rows.push([mode === 'prebuilt' ? 'prebuilt bundle (node dist/worker.js)' : 'bundled from source (npm run worker)', median(create), median(whole)]);
    }
    console.log(`\nworker start, median of ${RUNS}            Worker.create   process to "worker running"`);
    for (const [name, create, whole] of rows) console.log(`${name.padEnd(40)} ${create.toFixed(0).padStart(8)} ms ${whole.toFixed(0).padStart(12)} ms`);
  } finally {
    await globalTeardown();
  }
}

runScript(main);
