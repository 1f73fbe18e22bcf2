import { fitting, RecentService } from './outbox-dispatcher';

describe('the outbox claim', () => {
  it('takes the events whose deliveries fit in the free slots, and always at least one', () => {
    const events = [{ delivery_count: 4 }, { delivery_count: 4 }, { delivery_count: 1 }];
    expect(fitting(events, 8)).toHaveLength(2);
    expect(fitting(events, 9)).toHaveLength(3);
    expect(fitting(events, 2)).toHaveLength(1);
    expect(fitting([], 5)).toEqual([]);
  });

  it("remembers each organization's recent service, halving it every half-life, and forgets it when negligible", () => {
    const recent = new RecentService(1_000);
    const t = 1_000_000;
    recent.add('org_a', 8, t);
    recent.add('org_b', 1, t);
    expect(recent.of('org_a', t)).toBe(8);
    expect(recent.of('org_a', t + 1_000)).toBeCloseTo(4);
    recent.add('org_a', 1, t + 1_000);
    expect(recent.of('org_a', t + 2_000)).toBeCloseTo(2.5);
    expect(recent.snapshot(t + 5_000)).toEqual({ org_a: 0.31 }); // 5 × 0.5⁴; org_b's 1 × 0.5⁵ is forgotten
    expect(recent.snapshot(t + 60_000)).toEqual({});
  });
});
