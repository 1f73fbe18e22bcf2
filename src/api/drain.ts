import type { Server } from 'node:http';

/**
 * Graceful stop of the API (SIGTERM): `/readyz` answers 503 at once so load balancers stop sending, after
 * `readinessDelayMs` the listener closes, requests in flight finish, and connections still busy after
 * `deadlineMs` are cut (Kubernetes would SIGKILL the pod soon after anyway).
 */
export class Drain {
  private started = false;

  get draining(): boolean {
    return this.started;
  }

  async close(server: Server, o: { readinessDelayMs: number; deadlineMs: number }): Promise<void> {
    this.started = true;
    if (o.readinessDelayMs > 0) await new Promise((r) => setTimeout(r, o.readinessDelayMs));
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const cut = setTimeout(() => server.closeAllConnections(), o.deadlineMs);
    await closed;
    clearTimeout(cut);
  }
}

/** How long in-flight requests get after the listener closes. */
export const API_DRAIN_DEADLINE_MS = 25_000;
