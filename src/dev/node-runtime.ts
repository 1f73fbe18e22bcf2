import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');

/**
 * Node as package.json's start scripts run the API and the worker: the V8 heap cap from its `config.nodeFlags`
 * and glibc's malloc arenas capped at 2 (docs/performance.md, "Memory"). Processes this project spawns in their
 * place (the local cluster, the bench) run the same way.
 */
export const serviceNode = {
  flags: (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).config.nodeFlags as string).split(' '),
  env: { MALLOC_ARENA_MAX: '2' },
};
