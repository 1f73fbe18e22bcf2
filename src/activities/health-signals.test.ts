import { failureMattersToHealth, successMattersToHealth } from './delivery';

const at = (iso: string) => new Date(iso);
const t = (iso: string) => Date.parse(iso);

describe('which failures are signalled to the health workflow', () => {
  it('always the first failure of a UTC day', () => {
    expect(failureMattersToHealth({ last_failure_at: null, last_success_at: null }, t('2026-11-27T10:00:00Z'))).toBe(true);
    expect(failureMattersToHealth({ last_failure_at: at('2026-11-26T23:59:50Z'), last_success_at: null }, t('2026-11-27T00:00:05Z'))).toBe(true);
  });
  it('a repeat within a minute of the day’s last failure is not, a repeat a minute later is', () => {
    const previous = { last_failure_at: at('2026-11-27T10:00:00Z'), last_success_at: null };
    expect(failureMattersToHealth(previous, t('2026-11-27T10:00:30Z'))).toBe(false);
    expect(failureMattersToHealth(previous, t('2026-11-27T10:01:00Z'))).toBe(true);
  });
  it('a failure after a success since the last failure is, whenever it comes', () => {
    expect(failureMattersToHealth({ last_failure_at: at('2026-11-27T10:00:00Z'), last_success_at: at('2026-11-27T10:00:10Z') }, t('2026-11-27T10:00:20Z'))).toBe(true);
  });
  it('a late outcome older than the last recorded failure is', () => {
    expect(failureMattersToHealth({ last_failure_at: at('2026-11-27T10:00:00Z'), last_success_at: null }, t('2026-11-27T09:59:50Z'))).toBe(true);
  });
});

describe('which successes are signalled', () => {
  it('only within three days of a failure', () => {
    expect(successMattersToHealth(null, t('2026-11-27T10:00:00Z'))).toBe(false);
    expect(successMattersToHealth(at('2026-11-25T10:00:01Z'), t('2026-11-28T10:00:00Z'))).toBe(true);
    expect(successMattersToHealth(at('2026-11-24T10:00:00Z'), t('2026-11-27T10:00:00Z'))).toBe(false);
  });
});
