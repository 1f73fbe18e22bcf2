/**
 * Before `npm run test:cluster` (and usable alone): builds the Temporal server, its SQL tool and the
 * Temporal UI server once per user (src/dev/temporal-server.ts), saying how long it took.
 */
import { ensureTemporalServer, ensureTemporalUiServer } from '../src/dev/temporal-server';

async function main() {
  const log = (line: string) => console.log(line);
  const started = Date.now();
  const build = await ensureTemporalServer(log);
  const ui = await ensureTemporalUiServer(log);
  log(`Temporal server: ${build.server}\nTemporal SQL tool: ${build.sqlTool}\nTemporal UI server: ${ui} (ready in ${Math.round((Date.now() - started) / 1000)} s)`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
