import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');

const config = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).config as { nodeFlags: string; mallocEnv: string };

/**
 * Node as package.json's start scripts run the API and the worker: the V8 heap cap from its `config.nodeFlags`,
 * and glibc's malloc from its `config.mallocEnv` — 2 arenas, and fixed trim and mmap thresholds so freed memory goes
 * back to the system (docs/performance.md, "Memory"). Processes this project spawns in their place (the local
 * cluster, the bench) run the same way.
 */
export const serviceNode = {
  flags: config.nodeFlags.split(' '),
  env: Object.fromEntries(config.mallocEnv.split(' ').map((assignment) => assignment.split('='))) as Record<string, string>,
};
