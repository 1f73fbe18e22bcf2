import path from 'node:path';

/**
 * Where `npm run build` writes the prebuilt workflow bundle: beside the compiled entry points, so
 * `node dist/worker.js` finds it and `npm start` under tsx (no bundle beside src/) bundles from source.
 */
export const WORKFLOW_BUNDLE_FILE = 'workflow-bundle.js';
export const prebuiltWorkflowBundlePath = (dir: string = __dirname) => path.join(dir, WORKFLOW_BUNDLE_FILE);
