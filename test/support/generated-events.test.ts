import fc from 'fast-check';
import { judgeTimestamp } from './generated-events';

type Parts = Parameters<typeof judgeTimestamp>[0];
const at = (year: number, month: number, day: number, offset: Parts['offset'] = null, spelling: Parts['spelling'] = 'rfc3339', fraction: string | null = null): Parts =>
  ({ year, month, day, hour: 0, minute: 0, second: 0, fraction, offset, spelling });

/** The generator's own judge of a timestamp, checked on the cases issue 18 names and on the calendar. */
describe('judgeTimestamp', () => {
  it('refuses what falls outside the years 0001–9999 once in UTC, whatever its spelling', () => {
    expect(judgeTimestamp(at(0, 1, 1))).toEqual({ value: '0000-01-01T00:00:00Z', verdict: 'invalid' });
    expect(judgeTimestamp(at(1, 1, 1, { sign: '+', hours: 14, minutes: 0 })).verdict).toBe('invalid');
    expect(judgeTimestamp({ ...at(9999, 12, 31, { sign: '-', hours: 23, minutes: 59 }), hour: 23, minute: 59, second: 59 }).verdict).toBe('invalid');
    expect(judgeTimestamp(at(10000, 1, 1)).value).toBe('+010000-01-01T00:00:00Z');
  });

  it('knows leap days, month lengths and the ranges of each part', () => {
    expect(judgeTimestamp(at(2024, 2, 29)).verdict).toBe('valid');
    expect(judgeTimestamp(at(2000, 2, 29)).verdict).toBe('valid');
    expect(judgeTimestamp(at(1900, 2, 29)).verdict).toBe('invalid');
    expect(judgeTimestamp(at(2026, 4, 31)).verdict).toBe('invalid');
    expect(judgeTimestamp(at(2026, 1, 1, { sign: '+', hours: 24, minutes: 0 })).verdict).toBe('invalid');
  });

  it('reads the instant with the offset applied and the fraction truncated to the millisecond', () => {
    expect(judgeTimestamp(at(1, 1, 1, { sign: '-', hours: 0, minutes: 30 }, 'rfc3339', '0009999'))).toEqual({
      value: '0001-01-01T00:00:00.0009999-00:30',
      verdict: 'valid',
      utcMs: Date.parse('0001-01-01T00:30:00.000Z'),
    });
    expect(judgeTimestamp(at(2026, 1, 1, null, 'space')).verdict).toBe('either');
  });

  it('agrees with Date on every RFC 3339 time it calls valid (fractions of at most 3 digits, which V8 reads right)', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59.999Z'), noInvalidDate: true }), (d) => {
        const iso = d.toISOString();
        const parts = at(Number(iso.slice(0, 4)), Number(iso.slice(5, 7)), Number(iso.slice(8, 10)), null, 'rfc3339', iso.slice(20, 23));
        const judged = judgeTimestamp({ ...parts, hour: d.getUTCHours(), minute: d.getUTCMinutes(), second: d.getUTCSeconds() });
        return judged.verdict === 'valid' && judged.utcMs === d.getTime() && judged.value === iso;
      }),
      { seed: 18, numRuns: 500 },
    );
  });
});
