/** The call gave no answer within its bound (it may still finish: nothing cancels it). */
export class TimeLimitError extends Error {
  constructor(what: string, ms: number) {
    super(`${what}: no answer within ${ms / 1000} s`);
    this.name = 'TimeLimitError';
  }
}

/** Settles as `promise` does, or rejects with TimeLimitError after `ms`; a late settling of `promise` is handled. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new TimeLimitError(what, ms)), ms);
    promise.then(resolve, reject).finally(() => clearTimeout(timer));
  });
}
