import path from 'node:path';
import type { BundleOptions } from '@temporalio/worker';
import { WORKFLOW_TRACING_INTERCEPTORS } from './tracing';

/**
 * Where `npm run build` writes the prebuilt workflow bundles: beside the compiled entry points, so
 * `node dist/worker.js` finds them and `npm start` under tsx (no bundle beside src/) bundles from source.
 * Two bundles: the workflow code alone, and with OpenTelemetry's workflow interceptors for a worker with tracing
 * on (a worker with tracing off runs no tracing code in its workflows; the SDK takes interceptor modules only
 * at bundling time).
 */
export const WORKFLOW_BUNDLE_FILE = 'workflow-bundle.js';
export const TRACED_WORKFLOW_BUNDLE_FILE = 'workflow-bundle-traced.js';

export const prebuiltWorkflowBundlePath = (dir: string = __dirname, traced = false) => path.join(dir, traced ? TRACED_WORKFLOW_BUNDLE_FILE : WORKFLOW_BUNDLE_FILE);

/** What bundleWorkflowCode is given besides its logger: src/workflows, and with `traced` the tracing interceptors. */
export function workflowBundleOptions(workflowsPath: string, traced: boolean): Pick<BundleOptions, 'workflowsPath' | 'workflowInterceptorModules'> {
  return { workflowsPath, ...(traced ? { workflowInterceptorModules: [require.resolve(WORKFLOW_TRACING_INTERCEPTORS)] } : {}) };
}
