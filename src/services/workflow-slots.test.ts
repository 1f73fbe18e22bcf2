import { WorkflowSlots } from './workflow-slots';

describe('WorkflowSlots', () => {
  it('counts eager starts until their attempt begins, and attempts until they end', () => {
    const slots = new WorkflowSlots(3);
    slots.started('a', true);
    slots.started('b', true);
    expect(slots.room()).toBe(1);
    slots.attemptBegan('a');
    expect(slots.room()).toBe(1);
    slots.attemptEnded();
    expect(slots.room()).toBe(2);
    slots.attemptBegan('b');
    slots.attemptBegan('c'); // a task that reached this worker from Temporal's queue
    expect(slots.room()).toBe(1);
  });

  it('reads a start that found no free slot as full for a moment, and counts it until its attempt begins', () => {
    const slots = new WorkflowSlots(10);
    const now = Date.now();
    slots.started('a', false);
    expect(slots.room(now)).toBe(0);
    expect(slots.room(now + 60)).toBe(9);
    slots.attemptBegan('a');
    slots.attemptEnded();
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
    slots.attemptEnded();
    slots.attemptBegan('a');
    slots.attemptBegan('b');
    expect(slots.room()).toBe(0);
  });
});
