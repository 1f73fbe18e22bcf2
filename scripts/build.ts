/**
 * `npm run build [outDir]`: the production artefacts — the TypeScript compiled to `dist/` (CommonJS, source
 * maps), the settings page's static files beside it, and the workflow bundles (untraced and traced) prebuilt
 * once, so a worker starts without running webpack (`node dist/worker.js`, `node dist/api/server.js`).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { TRACED_WORKFLOW_BUNDLE_FILE, WORKFLOW_BUNDLE_FILE, workflowBundleOptions } from '../src/workflow-bundle-file';

const ROOT = path.resolve(__dirname, '..');

export async function build(outDir: string): Promise<void> {
  fs.rmSync(outDir, { recursive: true, force: true });
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(ROOT, 'tsconfig.build.json'), '--outDir', outDir], { stdio: 'inherit' });
  fs.cpSync(path.join(ROOT, 'src/web'), path.join(outDir, 'web'), { recursive: true });
  // The workflow code alone, and with the tracing interceptors for workers with tracing on (src/workflow-bundle-file.ts).
  for (const [file, traced] of [[WORKFLOW_BUNDLE_FILE, false], [TRACED_WORKFLOW_BUNDLE_FILE, true]] as const) {
    const { code } = await bundleWorkflowCode({
      ...workflowBundleOptions(path.join(ROOT, 'src/workflows/index.ts'), traced),
      logger: { log() {}, info() {}, debug() {}, trace() {}, warn: console.warn, error: console.error } as never,
    });
    fs.writeFileSync(path.join(outDir, file), code);
  }
}

if (require.main === module) {
  const outDir = path.resolve(ROOT, process.argv[2] ?? 'dist');
  build(outDir).then(
    () => console.log(`Built ${path.relative(ROOT, outDir) || outDir}/ (node ${path.relative(ROOT, outDir)}/worker.js, node ${path.relative(ROOT, outDir)}/api/server.js)`),
    (err) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    },
  );
}
