/**
 * `npm run lint:api`: Spectral (ruleset .spectral.yaml) on the OpenAPI document the API serves, built offline
 * (no database, no Temporal); fails on any error or warning.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildOpenApiDocument } from '../src/api/openapi-document';

const root = path.resolve(__dirname, '..');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ckw-openapi-'));
try {
  // Pretty-printed, so Spectral's line:column points somewhere readable.
  const file = path.join(dir, 'openapi.json');
  fs.writeFileSync(file, JSON.stringify(buildOpenApiDocument(), null, 2) + '\n');
  const spectral = path.join(root, 'node_modules', '.bin', 'spectral');
  const result = spawnSync(spectral, ['lint', file, '--ruleset', path.join(root, '.spectral.yaml'), '--fail-severity', 'warn'], { stdio: 'inherit' });
  if (result.error) throw result.error;
  process.exitCode = result.status ?? 1;
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
