import { attemptsPerEvent, failingAttemptsWithin, MIX, slopePerHour } from './soak';

describe('the soak', () => {
  it('counts the attempts a failing delivery makes within the run: retries 1, 5, 30 min… after each failure', () => {
    expect([2, 6, 7, 30, 36, 37, 60, 157, 24 * 60].map(failingAttemptsWithin)).toEqual([2, 2, 3, 3, 3, 4, 4, 5, 6]);
  });

  it('sizes the load in attempts per event: each healthy event goes to every healthy webhook', () => {
    expect(MIX).toHaveLength(10);
    expect(MIX.filter((r) => r === 'healthy')).toHaveLength(8);
    // 30 min: 8 × 2 healthy + 3 failing attempts + 1 slow, per 10 events.
    expect(attemptsPerEvent(2, 30)).toBeCloseTo(2.0);
    expect(attemptsPerEvent(1, 2)).toBeCloseTo(1.1);
  });

  it('fits the RSS slope in MiB per hour by least squares', () => {
    const hour = 3_600_000;
    expect(slopePerHour([{ at: 0, mib: 100 }, { at: hour / 2, mib: 105 }, { at: hour, mib: 110 }])).toBeCloseTo(10);
    // Up 1 MiB and back within 3 minutes: +0.2 MiB a minute by the fit, 12 an hour (a short run's slope is noisy).
    expect(slopePerHour([{ at: 0, mib: 100 }, { at: 60_000, mib: 99 }, { at: 120_000, mib: 101 }, { at: 180_000, mib: 100 }])).toBeCloseTo(12);
    expect(slopePerHour([{ at: 0, mib: 100 }, { at: hour, mib: 100 }])).toBe(0);
    expect(slopePerHour([{ at: 5, mib: 1 }])).toBe(0);
    expect(slopePerHour([{ at: 5, mib: 1 }, { at: 5, mib: 9 }])).toBe(0);
  });
});
