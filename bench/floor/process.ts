/**
 * The Temporal floor, in its own process as our worker is: a worker and a starter on one NativeConnection (eager
 * start, as ours), the same worker options, the same HTTP sender and keep-alive pool, posting the same signed bytes
 * to the same receiver. Prints READY, starts on a "go" line from stdin, and stops on SIGTERM. PACED=1 starts one
 * workflow at a time, each once the previous one has posted.
 */
import readline from 'node:readline';
import { Client } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { sendWebhookRequest, sharedAgents } from '../../src/delivery/http-sender';
import { buildRequest } from '../../src/destinations';
import { installRuntime } from '../../src/temporal-connection';
import { WORKER_TUNING } from '../../src/worker-factory';
import { benchPayload } from '../payload';

const { TEMPORAL_ADDRESS, RECEIVER_URL, COUNT, CONCURRENCY, TASK_QUEUE, KEY_PREFIX, PACED } = process.env;
const policy = { allowPrivateTargets: true, requireHttps: false };

export function createFloorActivities(posted: (key: string) => void = () => {}) {
  return {
    async post(sentAt: number, key: string): Promise<void> {
      const request = buildRequest('generic', benchPayload(key), { url: `${RECEIVER_URL}/floor`, secret: 'whsec_floor_bench_secret_0123456789', deliveryId: key });
      request.headers['X-Bench-Key'] = key;
      request.headers['X-Bench-Sent'] = String(sentAt);
      const sent = await sendWebhookRequest(request, { policy, agents: sharedAgents });
      if (!sent.succeeded) throw new Error(`floor post failed: ${sent.error}`);
      posted(key);
    },
  };
}
export type FloorActivities = ReturnType<typeof createFloorActivities>;

async function main() {
  installRuntime();
  // PACED: one workflow at a time, the next started once the previous one has posted (the unloaded case).
  const waiting = new Map<string, () => void>();
  const connection = await NativeConnection.connect({ address: TEMPORAL_ADDRESS! });
  const client = new Client({ connection, namespace: 'default' });
  const worker = await Worker.create({
    connection,
    namespace: 'default',
    taskQueue: TASK_QUEUE!,
    // The bench bundles once, in its own process (as a prebuilt bundle would): no webpack in this one.
    ...(process.env.FLOOR_BUNDLE ? { workflowBundle: { codePath: process.env.FLOOR_BUNDLE } } : { workflowsPath: require.resolve('./workflows') }),
    activities: createFloorActivities((key) => waiting.get(key)?.()),
    ...WORKER_TUNING,
  });
  const running = worker.run();
  process.once('SIGTERM', () => worker.shutdown());
  console.log('READY');
  await new Promise<void>((resolve) => readline.createInterface({ input: process.stdin }).once('line', () => resolve()));

  const total = Number(COUNT);
  let next = 0;
  await Promise.all(
    Array.from({ length: Number(CONCURRENCY) }, async () => {
      while (next < total) {
        const key = `${KEY_PREFIX}${next++}`;
        const posted = PACED ? new Promise<void>((resolve) => waiting.set(key, resolve)) : null;
        await client.workflow.start('floorWorkflow', { taskQueue: TASK_QUEUE!, workflowId: key, args: [Date.now(), key], requestEagerStart: true });
        if (posted) await posted.finally(() => waiting.delete(key));
      }
    }),
  );
  await running;
  await connection.close();
  process.exit(0);
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
