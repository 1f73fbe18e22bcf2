import { deliveryPriority, fairnessKey, kindOfEvent } from './delivery-priority';

describe('delivery priority', () => {
  it('puts what a person is watching first and keys fairness on the organization', () => {
    expect(deliveryPriority('org_a', 'interactive')).toEqual({ priorityKey: 1, fairnessKey: 'org_a', fairnessWeight: 1 });
    expect(deliveryPriority('org_a', 'live', 2.5)).toEqual({ priorityKey: 3, fairnessKey: 'org_a', fairnessWeight: 2.5 });
  });

  it("gives a recovery its own fairness key at the live priority, so it neither blocks nor starves the tenant's live events", () => {
    const recovery = deliveryPriority('org_a', 'recovery');
    expect(recovery.priorityKey).toBe(deliveryPriority('org_a', 'live').priorityKey);
    expect(recovery.fairnessKey).toBe('org_a:recovery');
    expect(fairnessKey('org_a', 'recovery')).not.toBe(fairnessKey('org_a', 'live'));
  });

  it('treats pings as interactive and every other event as live', () => {
    expect(kindOfEvent('ping')).toBe('interactive');
    expect(kindOfEvent('secret.created')).toBe('live');
  });
});
