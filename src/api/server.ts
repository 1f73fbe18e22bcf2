// `npm run api`: the Express API on its own.
import { runStandalone } from '../runtime';

runStandalone('api').catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
