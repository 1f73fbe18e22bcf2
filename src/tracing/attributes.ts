/**
 * The attributes of the spans we make ourselves (OpenTelemetry's HTTP semantic conventions where one fits, ours
 * under `cloudkeep.`). Pure functions, so what a span may carry is tested without an SDK.
 */
import type { OutgoingRequest, OutgoingResult } from './types';

export type Attributes = Record<string, string | number | boolean>;

/**
 * A URL fit for a span: no credentials, no query string, no fragment (a query often carries a token). The path is
 * kept as the caller gives it: the Delivery Log's form, with a Slack or Discord URL's secret segment masked.
 */
export function traceableUrl(url: string): string {
  const bare = url.replace(/[?#].*$/s, '');
  return bare.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1');
}

/** An outgoing webhook request's attributes when it starts: never its headers (signature) or body. */
export function outgoingRequestAttributes(request: OutgoingRequest): Attributes {
  const url = traceableUrl(request.url);
  const attributes: Attributes = {
    'http.request.method': 'POST',
    'url.full': url,
    'cloudkeep.destination': request.destination,
    'cloudkeep.delivery.id': request.deliveryId,
    'cloudkeep.webhook.id': request.webhookId,
  };
  const m = /^(https?):\/\/(\[[^\]]+\]|[^/:]+)(?::(\d+))?/i.exec(url);
  if (m) {
    attributes['url.scheme'] = m[1].toLowerCase();
    attributes['server.address'] = m[2].replace(/^\[|\]$/g, '');
    attributes['server.port'] = m[3] ? Number(m[3]) : m[1].toLowerCase() === 'https' ? 443 : 80;
  }
  return attributes;
}

/** Its outcome: the status code (when an answer came), the duration, and what failed. */
export function outgoingResultAttributes(result: OutgoingResult): Attributes {
  return {
    ...(result.status !== null ? { 'http.response.status_code': result.status } : {}),
    'cloudkeep.http.duration_ms': result.durationMs,
    'cloudkeep.delivery.succeeded': result.succeeded,
    // The semantic conventions' error.type: the status code for an HTTP error, else an unclassified failure.
    ...(result.succeeded ? {} : { 'error.type': result.status !== null ? String(result.status) : '_OTHER' }),
  };
}
