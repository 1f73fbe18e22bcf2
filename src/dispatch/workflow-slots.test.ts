import { WorkflowSlots } from './workflow-slots';

describe('WorkflowSlots', () => {
  it('counts starts until their attempt begins, and attempts until their request is out or they end', () => {
    const slots = new WorkflowSlots(3);
    slots.started('a', true);
    slots.started('b', true);
    expect(slots.room()).toBe(1);
    slots.attemptBegan('a', 'a:1');
    expect(slots.room()).toBe(1);
    slots.attemptEnded('a:1');
    expect(slots.room()).toBe(2);
    slots.attemptBegan('b', 'b:1');
    slots.attemptBegan('c', 'c:1'); // a task that reached this worker from Temporal's queue
    expect(slots.room()).toBe(1);
    // A slow receiver holds no admission while its request is out.
    slots.requestSent('c:1');
    expect(slots.room()).toBe(2);
    expect(slots.waitingOnReceivers).toBe(1);
    slots.attemptEnded('c:1');
    expect(slots.waitingOnReceivers).toBe(0);
    expect(slots.room()).toBe(2);
  });

  it('tells the dispatcher when room frees up', () => {
    const slots = new WorkflowSlots(1);
    const released: string[] = [];
    slots.onRelease = () => released.push('x');
    slots.attemptBegan('a', 'a:1');
    slots.requestSent('a:1');
    slots.attemptEnded('a:1');
    slots.attemptEnded('a:1'); // already ended: nothing more
    expect(released).toHaveLength(2);
  });

  it('reads a start that found no free slot as full for a moment, and counts it until its attempt begins', () => {
    const slots = new WorkflowSlots(10);
    const now = Date.now();
    slots.started('a', false);
    expect(slots.room(now)).toBe(0);
    expect(slots.room(now + 60)).toBe(9);
    slots.attemptBegan('a', 'a:1');
    slots.attemptEnded('a:1');
    expect(slots.room(now + 60)).toBe(10);
  });

  it('stops counting a start whose attempt never began here', () => {
    const slots = new WorkflowSlots(2, 1_000);
    slots.started('a', true);
    expect(slots.room()).toBe(1);
    expect(slots.room(Date.now() + 1_001)).toBe(2);
  });

  it('never goes below zero', () => {
    const slots = new WorkflowSlots(1);
    slots.attemptEnded('x:1');
    slots.attemptBegan('a', 'a:1');
    slots.attemptBegan('b', 'b:1');
    expect(slots.room()).toBe(0);
  });
});
