/**
 * Ingest clients that behave like the vault service: each event has its own id, sent at a steady rate by a
 * few concurrent clients; a request that fails (connection refused or reset, 5xx, 429, no answer in time) is
 * sent again with the SAME id until it gets a 202 or its deadline passes. An event counts as accepted only
 * once a 202 came back.
 */
export interface IngestRecord {
  eventId: string;
  accepted: boolean;
  /** The 202 said the id was already stored (an earlier try got through but its answer was lost). */
  duplicateAnswer: boolean;
  tries: number;
  /** Milliseconds of each try, answered or not. */
  latenciesMs: number[];
  /** A 4xx other than 429: the API refused a valid event (a bug, never retried). */
  rejected: { status: number; body: string } | null;
  lastError: string | null;
}

export interface LoadOptions {
  apiUrl: string;
  serviceToken: string;
  /** Prefix of the event ids, unique per scenario and run. */
  idPrefix: string;
  events: number;
  clients: number;
  ratePerSecond: number;
  /** Per try: long enough to see a slow 202 rather than hide it. */
  requestTimeoutMs: number;
  /** Per event: after this the client gives up (the event is then not accepted). */
  giveUpAfterMs: number;
}

export interface LoadRun {
  records: IngestRecord[];
  /** How many events have been accepted so far (for fault triggers). */
  accepted: () => number;
  done: Promise<IngestRecord[]>;
  /** Stops sending new events and retries (the harness is being interrupted). */
  abort: () => void;
}

export const eventData = (i: number) => ({
  vaultId: 'vlt_chaos',
  vaultName: 'Chaos',
  secretId: `sec_${i}`,
  secretKey: `CHAOS_KEY_${i}`,
  type: 'api_key',
  actor: { id: 'usr_chaos', name: 'Chaos Client' },
});

export function startLoad(o: LoadOptions): LoadRun {
  const records: IngestRecord[] = Array.from({ length: o.events }, (_, i) => ({
    eventId: `${o.idPrefix}_${i}`,
    accepted: false,
    duplicateAnswer: false,
    tries: 0,
    latenciesMs: [],
    rejected: null,
    lastError: null,
  }));
  let acceptedCount = 0;
  let aborted = false;
  let next = 0;
  const startedAt = Date.now();

  async function send(index: number): Promise<void> {
    const record = records[index];
    const giveUpAt = Date.now() + o.giveUpAfterMs;
    const body = JSON.stringify({ id: record.eventId, event: 'secret.created', data: eventData(index) });
    let backoffMs = 250;
    while (!aborted && Date.now() < giveUpAt) {
      record.tries++;
      const began = Date.now();
      try {
        const res = await fetch(`${o.apiUrl}/v1/events`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${o.serviceToken}`, 'Content-Type': 'application/json' },
          body,
          signal: AbortSignal.timeout(o.requestTimeoutMs),
        });
        const text = await res.text();
        record.latenciesMs.push(Date.now() - began);
        if (res.status === 202) {
          record.accepted = true;
          record.duplicateAnswer = (JSON.parse(text) as { duplicate?: boolean }).duplicate === true;
          acceptedCount++;
          return;
        }
        if (res.status < 500 && res.status !== 429) {
          record.rejected = { status: res.status, body: text.slice(0, 300) };
          return;
        }
        record.lastError = `HTTP ${res.status}`;
      } catch (err) {
        record.latenciesMs.push(Date.now() - began);
        record.lastError = (err as Error).name === 'TimeoutError' ? 'no answer in time' : String((err as Error & { cause?: Error }).cause?.message ?? (err as Error).message);
      }
      await new Promise((r) => setTimeout(r, backoffMs));
      backoffMs = Math.min(backoffMs * 2, 2000);
    }
  }

  async function client(): Promise<void> {
    while (!aborted && next < o.events) {
      const index = next++;
      // A steady rate, so the load spans the faults injected into it.
      const due = startedAt + (index * 1000) / o.ratePerSecond;
      if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
      await send(index);
    }
  }

  const done = Promise.all(Array.from({ length: o.clients }, client)).then(() => records);
  return { records, accepted: () => acceptedCount, done, abort: () => void (aborted = true) };
}

/** Latency percentiles of every try (ms). */
export function latencySummary(records: IngestRecord[]): { p50: number; p99: number; max: number } {
  const all = records.flatMap((r) => r.latenciesMs).sort((a, b) => a - b);
  const at = (q: number) => (all.length ? all[Math.min(all.length - 1, Math.floor(q * all.length))] : 0);
  return { p50: at(0.5), p99: at(0.99), max: all.length ? all[all.length - 1] : 0 };
}
