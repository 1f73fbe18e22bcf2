// Pure wording for the Settings page (health, times, sizes): loaded by the page as a plain script and
// required by its unit test, so what the owner reads is tested without a browser.
(function (root, factory) {
  var api = factory();
  if (typeof module === 'object' && module.exports) module.exports = api;
  else root.CloudKeepFormat = api;
})(this, function () {
  'use strict';

  /** "2026-11-25 10:14 UTC": the health rule counts UTC days, so the page speaks UTC too. */
  function utc(iso) {
    if (!iso) return '—';
    var d = new Date(iso);
    if (isNaN(d.getTime())) return '—';
    return d.toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
  }

  function plural(n, one, many) { return n + ' ' + (n === 1 ? one : many); }

  /**
   * What the Health column says. An error is shown only while the webhook is failing: an active webhook
   * whose last failure is behind it is "Healthy", whatever lastError still remembers.
   * Returns { tone: 'ok'|'failing'|'pending'|'off'|'unknown', text, detail }.
   */
  function health(webhook) {
    var h = webhook.health;
    var days = h ? h.consecutiveFailureDays : 0;
    if (webhook.status === 'disabled') {
      return {
        tone: 'off',
        text: h && h.failingSince ? 'Disabled after failing since ' + utc(h.failingSince) : 'Disabled',
        detail: webhook.statusReason || (h && h.lastError) || null,
      };
    }
    if (days > 0) {
      return {
        tone: 'failing',
        text: 'Failing for ' + plural(days, 'day', 'days') + (h.failingSince ? ' since ' + utc(h.failingSince) : ''),
        detail: h.lastError || null,
      };
    }
    if (webhook.status === 'inactive') {
      return { tone: 'failing', text: 'Not reachable: the ping failed and is being retried', detail: (h && h.lastError) || webhook.statusReason || null };
    }
    if (webhook.status === 'pending') return { tone: 'pending', text: 'Checking the endpoint…', detail: null };
    if (webhook.health === null) return { tone: 'unknown', text: 'Health unavailable right now', detail: null };
    return { tone: 'ok', text: 'Healthy', detail: null };
  }

  /** Human words for a status badge ("retrying" → "Retrying"). */
  function statusLabel(status) {
    return status ? status.charAt(0).toUpperCase() + status.slice(1) : '';
  }

  function duration(ms) {
    if (ms === null || ms === undefined) return '—';
    return ms < 1000 ? ms + ' ms' : (ms / 1000).toFixed(ms < 10000 ? 2 : 1) + ' s';
  }

  /** The outcome of one attempt in a few words: "200", "500 · Internal error", or the transport error. */
  function outcome(status, error) {
    if (!status) return error || '—';
    return error && error !== 'HTTP ' + status ? status + ' · ' + error : String(status);
  }

  /** "vlt_a, vlt_b" → ["vlt_a","vlt_b"]; empty → null (every vault). */
  function vaultIds(text) {
    var ids = String(text || '').split(/[\s,]+/).filter(Boolean);
    return ids.length ? ids : null;
  }

  /** A datetime-local value ("2026-11-25T10:14") read in the browser's zone, as ISO 8601 UTC. */
  function localInputToIso(value) {
    var d = new Date(value);
    return isNaN(d.getTime()) ? null : d.toISOString();
  }

  /** The other way: an ISO time as a datetime-local value in the browser's zone. */
  function isoToLocalInput(iso) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) return '';
    var pad = function (n) { return (n < 10 ? '0' : '') + n; };
    return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + 'T' + pad(d.getHours()) + ':' + pad(d.getMinutes());
  }

  /** The rate limit as the list shows it: "Up to 10 deliveries/s"; null when there is none. */
  function rateLimit(perSecond) {
    if (perSecond === null || perSecond === undefined) return null;
    return 'Up to ' + perSecond + (perSecond === 1 ? ' delivery/s' : ' deliveries/s');
  }

  /** The editor's rate field: empty → null (unlimited); a number → that number; anything else as typed (the API names it). */
  function rateLimitInput(text) {
    var t = String(text || '').trim();
    if (!t) return null;
    var n = Number(t);
    return isFinite(n) ? n : t;
  }

  /** A delivery waiting for its turn under the rate limit: "Paced: goes out at 2026-11-25 10:14:03 UTC". */
  function paced(iso) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) return 'Paced: waiting for its turn';
    return 'Paced: goes out at ' + d.toISOString().slice(0, 19).replace('T', ' ') + ' UTC';
  }

  var STALL_CAUSES = {
    database_unavailable: 'our database is unavailable',
    database_error: 'our database is failing',
    temporal_unavailable: 'our workflow service is unreachable',
    unknown: 'an internal error',
  };

  /**
   * A delivery held up on our side (its `stalled`): "Delayed on our side since 2026-11-25 10:14 UTC: our database is
   * unavailable. It goes out once that is fixed."
   */
  function stalled(stall) {
    var cause = STALL_CAUSES[stall && stall.reason] || STALL_CAUSES.unknown;
    return 'Delayed on our side' + (stall && stall.since ? ' since ' + utc(stall.since) : '') + ': ' + cause + '. It goes out once that is fixed.';
  }

  return { utc: utc, plural: plural, rateLimit: rateLimit, rateLimitInput: rateLimitInput, paced: paced, stalled: stalled, health: health, statusLabel: statusLabel, duration: duration, outcome: outcome, vaultIds: vaultIds, localInputToIso: localInputToIso, isoToLocalInput: isoToLocalInput };
});
