/**
 * Polls `check` until it returns a truthy value: like test/support/wait.ts, plus `failIf`, which ends the wait
 * at once (a process that has exited will not become ready), and a deadline that returns instead of throwing
 * when the caller wants to carry on with what it has (a scenario that does not settle is reported, not aborted).
 */
export async function waitUntil<T>(
  check: () => Promise<T> | T,
  what: string,
  deadlineMs: number,
  options: { intervalMs?: number; failIf?: () => string | null } = {},
): Promise<NonNullable<T>> {
  const until = Date.now() + deadlineMs;
  let last: unknown;
  for (;;) {
    const fatal = options.failIf?.();
    if (fatal) throw new Error(`${what}: ${fatal}`);
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > until) throw new Error(`Timed out after ${Math.round(deadlineMs / 1000)} s waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 200));
  }
}

export const sleepMs = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
