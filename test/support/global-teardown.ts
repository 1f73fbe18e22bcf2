import fs from 'node:fs';

export default async function globalTeardown(): Promise<void> {
  const stack = (globalThis as Record<string, unknown>).__ckwStack as
    | { pg: { stop(): Promise<void> }; temporal: { stop(): Promise<void> }; dir: string }
    | undefined;
  if (!stack) return;
  await stack.temporal.stop();
  await stack.pg.stop();
  fs.rmSync(stack.dir, { recursive: true, force: true });
}
