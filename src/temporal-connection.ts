import { Client, ClientInterceptors } from '@temporalio/client';
import { DefaultLogger, makeTelemetryFilterString, NativeConnection, Runtime } from '@temporalio/worker';
import type { Config } from './config';

type TemporalOptions = Config['temporal'] & { address: string };

function connectionOptions(t: TemporalOptions) {
  return { address: t.address, tls: t.tls ? {} : undefined, apiKey: t.apiKey };
}

export interface TemporalConnection {
  /** Shared by the client and any worker of this process, which lets starts go eager. */
  connection: NativeConnection;
  client: Client;
}

/**
 * One connection for the whole process, retried while a just-started server comes up. The client runs on the
 * worker's NativeConnection: one set of sockets, and a start can hand its first workflow task straight to a
 * worker of this process (eager start). `interceptors`: the tracing's, when it is on.
 */
export async function connectTemporal(t: TemporalOptions, o: { deadlineMs?: number; interceptors?: ClientInterceptors } = {}): Promise<TemporalConnection> {
  const deadlineMs = o.deadlineMs ?? 60_000;
  installRuntime();
  const until = Date.now() + deadlineMs;
  for (;;) {
    try {
      const connection = await NativeConnection.connect(connectionOptions(t));
      try {
        await connection.workflowService.describeNamespace({ namespace: t.namespace });
      } catch (err) {
        await connection.close();
        throw err;
      }
      return { connection, client: new Client({ connection, namespace: t.namespace, interceptors: o.interceptors }) };
    } catch (err) {
      if (Date.now() > until) throw new Error(`Temporal at ${t.address} is not reachable: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

let runtimeInstalled = false;
/**
 * The SDK's own log at TEMPORAL_LOG_LEVEL (WARN: the bundler's report is noise on every start). The native core's
 * log is forwarded to the same logger, so one level governs both.
 */
export function installRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  const level = (process.env.TEMPORAL_LOG_LEVEL ?? 'WARN') as 'WARN';
  try {
    // Our entry points own SIGINT/SIGTERM (shutting the worker down with everything else, exit code 0).
    Runtime.install({
      logger: new DefaultLogger(level),
      telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: level, other: level }), forward: {} } },
      shutdownSignals: [],
    });
  } catch {
    // Already installed by the host (tests): keep theirs.
  }
}
