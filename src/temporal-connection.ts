import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import type { Config } from './config';

type TemporalOptions = Config['temporal'] & { address: string };

function connectionOptions(t: TemporalOptions) {
  return { address: t.address, tls: t.tls ? {} : undefined, apiKey: t.apiKey };
}

/** A client connection, retried while a just-started server comes up. */
export async function connectClient(t: TemporalOptions, deadlineMs = 60_000): Promise<Client> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    try {
      const connection = await Connection.connect(connectionOptions(t));
      await connection.workflowService.describeNamespace({ namespace: t.namespace });
      return new Client({ connection, namespace: t.namespace });
    } catch (err) {
      if (Date.now() > until) throw new Error(`Temporal at ${t.address} is not reachable: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

export function connectWorker(t: TemporalOptions): Promise<NativeConnection> {
  installRuntime();
  return NativeConnection.connect(connectionOptions(t));
}

let runtimeInstalled = false;
/** The SDK's own log at WARN: the bundler's report is noise on every start. */
export function installRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    // Our entry points own SIGINT/SIGTERM (shutting the worker down with everything else, exit code 0).
    Runtime.install({ logger: new DefaultLogger((process.env.TEMPORAL_LOG_LEVEL as 'WARN') ?? 'WARN'), shutdownSignals: [] });
  } catch {
    // Already installed by the host (tests): keep theirs.
  }
}

