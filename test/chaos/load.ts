/**
 * Ingest clients that behave like the vault service: each event has its own id, sent at a steady rate by a
 * few concurrent clients; a request that fails (connection refused or reset, 5xx, 429, no answer in time) is
 * sent again with the SAME id until it gets a 202 or its deadline passes. An event counts as accepted only
 * once a 202 came back. With several APIs (the cluster shape), events go to them in turn and a failed try moves
 * on to the next API at once, as a client with a list of endpoints would; a round in which every API failed is
 * followed by a back-off. Every try is recorded (when, how long, which API, what came back).
 */
import { percentiles } from './verdict';

export interface IngestTry {
  /** Index into the load's `apis`. */
  api: number;
  /** Epoch ms when the request was sent. */
  at: number;
  /** Until the answer (or the error). */
  ms: number;
  /** The HTTP status, or `refused` (nothing listening: the API was down), or `error` (reset, no answer in time…). */
  outcome: number | 'refused' | 'error';
}

export interface IngestRecord {
  eventId: string;
  accepted: boolean;
  /** The 202 said the id was already stored (an earlier try got through but its answer was lost). */
  duplicateAnswer: boolean;
  tries: IngestTry[];
  /** A 4xx other than 429: the API refused a valid event (a bug, never retried). */
  rejected: { status: number; body: string } | null;
  lastError: string | null;
}

export interface LoadApi {
  name: string;
  url: string;
}

export interface LoadOptions {
  /** One or more APIs (behind no load balancer: the clients spread and fail over themselves). */
  apis: LoadApi[];
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
    tries: [],
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
    for (let attempt = 0; !aborted && Date.now() < giveUpAt; attempt++) {
      // Events go to the APIs in turn; each retry moves on to the next one.
      const api = (index + attempt) % o.apis.length;
      const at = Date.now();
      const done = (outcome: IngestTry['outcome']) => record.tries.push({ api, at, ms: Date.now() - at, outcome });
      try {
        const res = await fetch(`${o.apis[api].url}/v1/events`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${o.serviceToken}`, 'Content-Type': 'application/json' },
          body,
          signal: AbortSignal.timeout(o.requestTimeoutMs),
        });
        const text = await res.text();
        done(res.status);
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
        const cause = (err as Error & { cause?: Error & { code?: string } }).cause;
        done(cause?.code === 'ECONNREFUSED' ? 'refused' : 'error');
        record.lastError = (err as Error).name === 'TimeoutError' ? 'no answer in time' : String(cause?.message ?? (err as Error).message);
      }
      // Straight on to the next API; a back-off once every API has failed this round.
      if ((attempt + 1) % o.apis.length !== 0) continue;
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
  return percentiles(records.flatMap((r) => r.tries.map((t) => t.ms)));
}

export interface ApiIngestCounts {
  api: string;
  tries: number;
  /** Answered 202. */
  accepted: number;
  /** Connection refused: nothing listened (the API was down). */
  refused: number;
  /** Answered anything but 202 (5xx, 429; a 4xx also marks its event `rejected`). */
  failed: number;
  /** Those answers by status, e.g. `{ "500": 48 }`. */
  failedStatuses: Record<string, number>;
  /** Reset, or no answer in time. */
  errors: number;
}

/** What each API did with the tries sent to it. */
export function countsPerApi(records: IngestRecord[], apis: LoadApi[]): ApiIngestCounts[] {
  return apis.map((a, i) => {
    const tries = records.flatMap((r) => r.tries.filter((t) => t.api === i));
    const n = (f: (t: IngestTry) => boolean) => tries.filter(f).length;
    const failedStatuses: Record<string, number> = {};
    for (const t of tries) if (typeof t.outcome === 'number' && t.outcome !== 202) failedStatuses[t.outcome] = (failedStatuses[t.outcome] ?? 0) + 1;
    return {
      api: a.name,
      tries: tries.length,
      accepted: n((t) => t.outcome === 202),
      refused: n((t) => t.outcome === 'refused'),
      failed: n((t) => typeof t.outcome === 'number' && t.outcome !== 202),
      failedStatuses,
      errors: n((t) => t.outcome === 'error'),
    };
  });
}
