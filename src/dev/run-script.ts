/**
 * Runs a script's `main` and exits: with the code it returns (0 when none), or 1 after printing what failed
 * (`brief`: the error's message only, for a tool whose errors already say what to do).
 */
export function runScript(main: () => Promise<number | void>, o: { brief?: boolean } = {}): void {
  main().then(
    (code) => process.exit(code ?? 0),
    (err) => {
      console.error(o.brief && err instanceof Error ? err.message : err);
      process.exit(1);
    },
  );
}
