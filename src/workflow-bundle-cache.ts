/**
 * The workflow code as one prebuilt bundle. Bundling (webpack) inside the worker costs ~100 MiB of RSS that the
 * process keeps for its whole life (measured: an idle worker at 311 MiB bundling itself, 204 MiB loading a
 * bundle), so a worker started from source bundles in a short-lived child process and caches the result by the
 * hash of the workflow sources and the SDK version: a restart with unchanged code loads it at once.
 */
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { workflowBundleOptions } from './workflow-bundle-file';

const WORKFLOWS_DIR = path.join(__dirname, 'workflows');

function sourceHash(traced: boolean): string {
  const hash = crypto.createHash('sha256');
  hash.update(require('@temporalio/workflow/package.json').version);
  if (traced) hash.update('traced').update(require('@temporalio/interceptors-opentelemetry/package.json').version);
  for (const file of fs.readdirSync(WORKFLOWS_DIR).sort()) {
    if (/\.(ts|js)$/.test(file) && !/\.test\./.test(file)) hash.update(file).update(fs.readFileSync(path.join(WORKFLOWS_DIR, file)));
  }
  return hash.digest('hex').slice(0, 16);
}

/** Writes the bundle of `src/workflows` (with the tracing interceptors if `traced`) to `out` (run in a child process by ensureWorkflowBundle). */
export async function writeWorkflowBundle(out: string, traced: boolean): Promise<void> {
  const { bundleWorkflowCode } = await import('@temporalio/worker');
  const quiet = { log() {}, info() {}, warn() {}, error() {}, debug() {}, trace() {} };
  const { code } = await bundleWorkflowCode({ ...workflowBundleOptions(require.resolve('./workflows'), traced), logger: quiet as never });
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(`${out}.tmp`, code);
  fs.renameSync(`${out}.tmp`, out);
}

/** The path of an up-to-date bundle under `cacheDir`, building it in a child process when missing. */
export function ensureWorkflowBundle(cacheDir: string, traced = false): string {
  const file = path.join(cacheDir, `workflow-bundle-${traced ? 'traced-' : ''}${sourceHash(traced)}.js`);
  if (fs.existsSync(file)) return file;
  if (process.env.CKW_BUNDLING_WORKFLOWS) throw new Error('ensureWorkflowBundle called while bundling');
  // Only the module loader flags (tsx when run from source), never the parent's own script (-e, -p, …).
  const loader = process.execArgv.flatMap((arg, i, all) => (arg === '--import' || arg === '--require' ? [arg, all[i + 1]] : /^--(import|require)=/.test(arg) ? [arg] : []));
  execFileSync(process.execPath, [...loader, __filename, file, ...(traced ? ['traced'] : [])], { stdio: 'inherit', env: { ...process.env, CKW_BUNDLING_WORKFLOWS: '1' }, timeout: 300_000 });
  return file;
}

if (require.main === module) {
  writeWorkflowBundle(process.argv[2], process.argv[3] === 'traced').catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
