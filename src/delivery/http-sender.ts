import http from 'node:http';
import https from 'node:https';
import { OutboundAddressError, OutboundPolicy, checkUrl, guardedLookup } from './address-guard';
import { AgentPool } from './agent-pool';

export const ATTEMPT_TIMEOUT_MS = 10_000;
export const RESPONSE_EXCERPT_BYTES = 4096;

export interface OutboundRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

export interface SendResult {
  /** HTTP status, or null when no response arrived (refused, timed out, blocked). */
  status: number | null;
  succeeded: boolean;
  responseExcerpt: string | null;
  durationMs: number;
  error: string | null;
  /** From a 429's or 503's Retry-After header. */
  retryAfterMs: number | null;
}

export interface SendOptions {
  policy: OutboundPolicy;
  timeoutMs?: number;
  maxResponseBytes?: number;
  /** Wall clock for Retry-After dates; injectable for tests. */
  now?: () => number;
  /** Keep-alive connections per origin; without one, every attempt opens a fresh connection. */
  agents?: AgentPool;
}

/** The process's pool: deliveries to one endpoint reuse their connections. */
export const sharedAgents = new AgentPool();

/**
 * The longest Retry-After kept (ms): what the log's 32-bit column holds. The schedule caps the wait at 12 h anyway;
 * a larger value (`Retry-After: 9999999999`, a date in year 9999) used to make the attempt's record fail on every
 * retry, and the retry sent the request again, once a minute, for ever.
 */
export const MAX_RETRY_AFTER_KEPT_MS = 2_147_483_647;

/** Retry-After is either delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | undefined, now: number): number | null {
  if (!value) return null;
  if (/^\d+$/.test(value.trim())) return Math.min(Number(value.trim()) * 1000, MAX_RETRY_AFTER_KEPT_MS);
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.min(Math.max(0, at - now), MAX_RETRY_AFTER_KEPT_MS);
}

/**
 * The answer's excerpt as the log keeps it: NUL, which PostgreSQL's text cannot hold (its record would fail on every
 * retry, each retry sending again), becomes U+FFFD like any other byte that is not text.
 */
export const excerptOf = (bytes: Buffer): string => bytes.toString('utf8').replace(/\u0000/g, '\uFFFD');

/**
 * One POST: redirects are not followed (a 3xx is a failure), the whole exchange has one deadline,
 * the address is checked when the socket connects, and at most `maxResponseBytes` of the answer are read.
 */
export function sendWebhookRequest(request: OutboundRequest, options: SendOptions): Promise<SendResult> {
  const timeoutMs = options.timeoutMs ?? ATTEMPT_TIMEOUT_MS;
  const maxBytes = options.maxResponseBytes ?? RESPONSE_EXCERPT_BYTES;
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const failure = (error: string): SendResult => ({ status: null, succeeded: false, responseExcerpt: null, durationMs: elapsed(), error, retryAfterMs: null });

  let url: URL;
  try {
    url = checkUrl(request.url, options.policy);
  } catch (err) {
    return Promise.resolve(failure(describeError(err)));
  }

  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (result: SendResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const transport = url.protocol === 'https:' ? https : http;
    let req: http.ClientRequest;
    const send = (agent: http.Agent | false) => {
      req = transport.request(url, {
        method: 'POST',
        headers: { ...request.headers, 'Content-Length': Buffer.byteLength(request.body).toString() },
        // Checked on every connect, pooled or not (a pooled socket was checked when it was dialled).
        lookup: guardedLookup(options.policy),
        agent,
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        // A pooled connection the server closed while idle: the request never reached it, so send once more on a
        // fresh connection instead of failing the attempt (Node's documented keep-alive race).
        if (req.reusedSocket && err.code === 'ECONNRESET' && !settled && agent) return send(false);
        finish(failure(describeError(err)));
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let kept = 0;
        const done = (complete: boolean) => {
          const status = res.statusCode ?? 0;
          const succeeded = status >= 200 && status < 300;
          const excerpt = excerptOf(Buffer.concat(chunks));
          finish({
            status,
            succeeded,
            responseExcerpt: excerpt,
            durationMs: elapsed(),
            error: succeeded ? null : status >= 300 && status < 400 ? `Redirect (${status}) not followed` : `HTTP ${status}`,
            retryAfterMs: status === 429 || status === 503 ? parseRetryAfter(res.headers['retry-after'], (options.now ?? Date.now)()) : null,
          });
          // A response read to its end leaves the connection reusable; one cut short must not be reused.
          if (!complete) res.destroy();
        };
        res.on('data', (chunk: Buffer) => {
          if (kept < maxBytes) {
            const slice = chunk.subarray(0, maxBytes - kept);
            chunks.push(slice);
            kept += slice.length;
          }
          // The excerpt is all we keep: stop reading rather than download a large answer.
          if (kept >= maxBytes) done(false);
        });
        res.on('end', () => done(true));
        res.on('error', () => done(false));
      });
      req.end(request.body);
    };
    const timer = setTimeout(() => {
      finish(failure(`Timed out after ${timeoutMs / 1000} s`));
      req.destroy();
    }, timeoutMs);
    try {
      // Without a pool: a fresh connection per attempt.
      send(options.agents ? options.agents.agentFor(url, options.policy) : false);
    } catch (err) {
      // A request Node refuses to make (a header it cannot send): our fault, not the endpoint's. The attempt ends it
      // as undeliverable; the deadline must not fire on a request that never existed.
      settled = true;
      clearTimeout(timer);
      reject(err);
    }
  });
}

function describeError(err: unknown): string {
  if (err instanceof OutboundAddressError) return `Blocked: ${err.message}`;
  const e = err as NodeJS.ErrnoException;
  switch (e.code) {
    case 'ECONNREFUSED':
      return 'Connection refused';
    case 'ECONNRESET':
      return 'Connection reset';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'Host not found';
    case 'ERR_OUTBOUND_ADDRESS':
      return `Blocked: ${e.message}`;
    default:
      return e.code ? `${e.code}: ${e.message}` : String(e.message ?? err);
  }
}
