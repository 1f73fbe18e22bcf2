// The Settings page's wording, as the owner reads it (the page loads the same file in the browser).
const format = require('./format.js');

const webhook = (over: Record<string, unknown>) => ({ status: 'active', statusReason: null, health: { consecutiveFailureDays: 0, failingSince: null, lastError: null }, ...over });

describe('health', () => {
  it('says Healthy for an active webhook, even when an old error is still remembered', () => {
    const h = format.health(webhook({ health: { consecutiveFailureDays: 0, failingSince: null, lastError: 'Connection refused' } }));
    expect(h).toEqual({ tone: 'ok', text: 'Healthy', detail: null });
  });

  it('says how long and since when a webhook has been failing, with its last error', () => {
    const h = format.health(webhook({ health: { consecutiveFailureDays: 2, failingSince: '2026-11-25T10:14:03.000Z', lastError: 'HTTP 503' } }));
    expect(h).toEqual({ tone: 'failing', text: 'Failing for 2 days since 2026-11-25 10:14 UTC', detail: 'HTTP 503' });
    expect(format.health(webhook({ health: { consecutiveFailureDays: 1, failingSince: null, lastError: null } })).text).toBe('Failing for 1 day');
  });

  it('names a disabled webhook and since when it failed', () => {
    const h = format.health(webhook({ status: 'disabled', statusReason: 'Failing for 3 consecutive days', health: { consecutiveFailureDays: 3, failingSince: '2026-11-22T08:00:00Z', lastError: 'timeout' } }));
    expect(h).toEqual({ tone: 'off', text: 'Disabled after failing since 2026-11-22 08:00 UTC', detail: 'Failing for 3 consecutive days' });
  });

  it('distinguishes an unreachable new webhook, a ping in flight and an unknown health', () => {
    expect(format.health(webhook({ status: 'inactive', health: { consecutiveFailureDays: 0, failingSince: null, lastError: 'ECONNREFUSED' } }))).toMatchObject({ tone: 'failing', detail: 'ECONNREFUSED' });
    expect(format.health(webhook({ status: 'pending' })).tone).toBe('pending');
    expect(format.health(webhook({ health: null })).tone).toBe('unknown');
  });
});

describe('small formats', () => {
  it('formats times in UTC, durations, outcomes and vault lists', () => {
    expect(format.utc('2026-11-27T07:05:09.123Z')).toBe('2026-11-27 07:05 UTC');
    expect(format.utc(null)).toBe('—');
    expect(format.duration(42)).toBe('42 ms');
    expect(format.duration(1534)).toBe('1.53 s');
    expect(format.outcome(500, null)).toBe('500');
    expect(format.outcome(500, 'HTTP 500')).toBe('500');
    expect(format.outcome(302, 'Redirect (302) not followed')).toBe('302 · Redirect (302) not followed');
    expect(format.outcome(null, 'Connection refused')).toBe('Connection refused');
    expect(format.vaultIds(' vlt_a, vlt_b  vlt_c ')).toEqual(['vlt_a', 'vlt_b', 'vlt_c']);
    expect(format.vaultIds('  ')).toBeNull();
    expect(format.statusLabel('skipped')).toBe('Skipped');
  });

  it('round-trips a datetime-local value through ISO time', () => {
    const iso = format.localInputToIso(format.isoToLocalInput('2026-11-25T10:14:00.000Z'));
    expect(iso).toBe('2026-11-25T10:14:00.000Z');
    expect(format.localInputToIso('not a time')).toBeNull();
  });
});

describe('rate limit', () => {
  it('shows a limit in the list, reads the editor field and says when a paced delivery goes out', () => {
    expect(format.rateLimit(10)).toBe('Up to 10 deliveries/s');
    expect(format.rateLimit(1)).toBe('Up to 1 delivery/s');
    expect(format.rateLimit(null)).toBeNull();
    expect(format.rateLimitInput('')).toBeNull();
    expect(format.rateLimitInput(' 0.5 ')).toBe(0.5);
    expect(format.rateLimitInput('fast')).toBe('fast');
    expect(format.paced('2026-11-25T10:14:03.250Z')).toBe('Paced: goes out at 2026-11-25 10:14:03 UTC');
  });
});

describe('stalled', () => {
  it('says a delivery is delayed on our side, since when and why, in words an owner reads', () => {
    expect(format.stalled({ reason: 'database_unavailable', since: '2026-11-25T10:14:03Z' })).toBe(
      'Delayed on our side since 2026-11-25 10:14 UTC: our database is unavailable. It goes out once that is fixed.',
    );
    expect(format.stalled({ reason: 'temporal_unavailable', since: null })).toBe('Delayed on our side: our workflow service is unreachable. It goes out once that is fixed.');
    expect(format.stalled({ reason: 'something_new', since: null })).toBe('Delayed on our side: an internal error. It goes out once that is fixed.');
  });
});
