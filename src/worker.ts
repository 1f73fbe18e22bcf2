// `npm run worker`: a worker on its own, against the configured Temporal and PostgreSQL.
import { runStandalone } from './runtime';

runStandalone('worker').catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
