/**
 * Safe workflow changes: every recorded history under test/histories/ (`npm run record-histories`) replays
 * against the current workflow code, so a change that is not deterministic for runs already in flight fails
 * CI. See docs/workflow-changes.md. The last two tests show the check bites: the same change to
 * deliveryWorkflow fails replay without patched() and passes with it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { installRuntime } from '../src/temporal-connection';
import { historyFromFile } from './support/history-file';
import { HISTORY_SCENARIOS } from './support/history-scenarios';
import { workflowBundleOptions } from '../src/workflow-bundle-file';

const DIR = path.join(__dirname, 'histories');
const quiet = { log() {}, info() {}, warn() {}, error() {}, debug() {}, trace() {} } as never;

function recorded(): { workflowId: string; history: ReturnType<typeof historyFromFile> }[] {
  const files = fs.existsSync(DIR) ? fs.readdirSync(DIR).filter((f) => f.endsWith('.json')).sort() : [];
  return files.map((f) => ({ workflowId: path.basename(f, '.json'), history: historyFromFile(fs.readFileSync(path.join(DIR, f), 'utf8')) }));
}

// The replay worker's state changes and the expected nondeterminism warnings stay out of the test output.
beforeAll(installRuntime);

async function replay(workflowsPath: string, histories: ReturnType<typeof recorded>, traced = false) {
  const { code } = await bundleWorkflowCode({ ...workflowBundleOptions(workflowsPath, traced), logger: quiet });
  // The traced bundle's spans go to a sink (never called during replay, but it must exist).
  const sinks = traced ? { exporter: { export: { fn: () => undefined } } } : undefined;
  const results: { workflowId: string; error?: Error }[] = [];
  for await (const result of Worker.runReplayHistories({ workflowBundle: { code }, replayName: 'ckw-replay', sinks }, histories)) results.push(result);
  return results;
}

it('has a recorded history for every scenario', () => {
  const names = recorded().map((h) => h.workflowId);
  expect(names.length).toBeGreaterThan(0);
  expect(names).toEqual(expect.arrayContaining(Object.keys(HISTORY_SCENARIOS)));
});

it('replays every recorded history against the current workflow code', async () => {
  const histories = recorded();
  const results = await replay(require.resolve('../src/workflows'), histories);
  expect(results).toHaveLength(histories.length);
  const failures = results.filter((r) => r.error).map((r) => `${r.workflowId}: ${r.error!.message}`);
  expect(failures).toEqual([]);
});

it('replays them with the tracing interceptors too: turning tracing on leaves running workflows deterministic', async () => {
  const histories = recorded();
  const results = await replay(require.resolve('../src/workflows'), histories, true);
  expect(results).toHaveLength(histories.length);
  expect(results.filter((r) => r.error).map((r) => `${r.workflowId}: ${r.error!.message}`)).toEqual([]);
});

describe('a change to deliveryWorkflow', () => {
  const histories = () => recorded().filter((h) => h.workflowId.startsWith('delivery-'));

  it('without patched() fails replay of histories recorded before it', async () => {
    const results = await replay(require.resolve('./fixtures/workflow-changes/unpatched'), histories());
    expect(results.length).toBeGreaterThan(0);
    for (const r of results) expect(r.error).toBeInstanceOf(DeterminismViolationError);
  });

  it('behind patched() replays them', async () => {
    const results = await replay(require.resolve('./fixtures/workflow-changes/patched'), histories());
    expect(results.filter((r) => r.error).map((r) => `${r.workflowId}: ${r.error!.message}`)).toEqual([]);
  });
});
