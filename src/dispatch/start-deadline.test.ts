import type { Client } from '@temporalio/client';
import { StartDeadlineError, withinDeadline } from './start-deadline';

/** A client whose connection applies no deadline of its own: what the SDK does while it reconnects. */
const reconnecting = { connection: { withDeadline: <T>(_deadline: number, fn: () => Promise<T>) => fn() } } as unknown as Client;

describe('withinDeadline', () => {
  it('answers with the call when Temporal answers in time', async () => {
    await expect(withinDeadline(reconnecting, 1_000, async () => 'started')).resolves.toBe('started');
  });

  it('gives up at the deadline when the call hangs, naming the deadline', async () => {
    jest.useFakeTimers();
    try {
      const hanging = withinDeadline(reconnecting, 3_000, () => new Promise<never>(() => undefined));
      const outcome = expect(hanging).rejects.toThrow(new StartDeadlineError(3_000));
      await jest.advanceTimersByTimeAsync(3_000);
      await outcome;
    } finally {
      jest.useRealTimers();
    }
  });

  it("passes the call's own error through", async () => {
    await expect(withinDeadline(reconnecting, 1_000, async () => Promise.reject(new Error('already started')))).rejects.toThrow('already started');
  });

  it('runs the call as it is when no deadline is set', async () => {
    await expect(withinDeadline(reconnecting, undefined, async () => 42)).resolves.toBe(42);
  });
});
