/** Polls `check` until it returns a truthy value or the deadline passes: synchronisation on a condition, never a fixed sleep. */
export async function waitFor<T>(check: () => Promise<T> | T, what: string, deadlineMs = 30_000, intervalMs = 50): Promise<NonNullable<T>> {
  const until = Date.now() + deadlineMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > until) throw new Error(`Timed out after ${deadlineMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
