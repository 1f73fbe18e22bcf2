import { Client, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';

/** A start that had no answer from Temporal within its deadline; the outbox dispatches the event again later. */
export class StartDeadlineError extends Error {
  constructor(readonly deadlineMs: number) {
    super(`Temporal did not answer within ${deadlineMs} ms`);
  }
}

/**
 * Runs a Temporal call under a deadline the caller can count on. The gRPC deadline bounds one request, but while
 * the connection is down the client reconnects and retries on its own schedule (an ingest waited ~10 s through a
 * 45 s outage); the timer bounds the whole call. A call that answers after the deadline is left to finish: starts
 * are idempotent (reject-duplicate workflow ids), and the outbox owns the retry.
 */
export function withinDeadline<T>(client: Client, deadlineMs: number | undefined, call: () => Promise<T>): Promise<T> {
  if (!deadlineMs) return call();
  const running = client.connection.withDeadline(Date.now() + deadlineMs, call);
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StartDeadlineError(deadlineMs)), deadlineMs);
  });
  // The race also handles a late rejection of `running`: nothing is left unhandled.
  return Promise.race([running, expired]).finally(() => clearTimeout(timer));
}

/** Starts a workflow within the deadline; a workflow id already started is no error (starts are idempotent). */
export async function startOnce(client: Client, deadlineMs: number | undefined, start: () => Promise<unknown>): Promise<void> {
  try {
    await withinDeadline(client, deadlineMs, start);
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
}
