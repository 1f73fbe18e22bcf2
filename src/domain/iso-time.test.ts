import { parseIsoTime } from './iso-time';

const msOf = (fraction: string) => parseIsoTime(`2026-01-01T00:00:00.${fraction}Z`).getTime() - Date.UTC(2026, 0, 1);

describe('parseIsoTime', () => {
  it('truncates any fraction to the millisecond, however many digits it has', () => {
    expect(['5', '05', '005', '0005', '123456789', '999999999999'].map(msOf)).toEqual([500, 50, 5, 0, 123, 999]);
    // Fractions V8's parser misreads (as 7, 999 and 10 ms).
    expect(['0007000000', '0000000999000000', '00010000000'].map(msOf)).toEqual([0, 0, 0]);
    expect(msOf('9999999999999999999999')).toBe(999);
  });

  it('reads offsets and times without a fraction as Date does', () => {
    expect(parseIsoTime('0001-01-01T00:30:00.123456789-00:30').toISOString()).toBe('0001-01-01T01:00:00.123Z');
    expect(parseIsoTime('9999-12-31T23:59:59+23:59').toISOString()).toBe('9999-12-31T00:00:59.000Z');
    expect(parseIsoTime('2024-02-29T12:00:00Z').toISOString()).toBe('2024-02-29T12:00:00.000Z');
  });
});
