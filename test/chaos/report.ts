/** Printing chaos results: a block per scenario as it ends, and a Markdown table for docs/reliability.md. */
import type { ApiIngestCounts } from './load';
import type { ScenarioResult } from './scenario';
import { INGEST_P99_TARGET_MS } from './verdict';

export function scenarioBlock(r: ScenarioResult): string {
  const lines = [`  → ${r.error ? 'ERROR' : r.verdict?.pass ? 'PASS' : 'FAIL'}  ${r.name} (${r.durationSeconds} s)`];
  const i = r.ingest;
  lines.push(`    events accepted (202): ${i.accepted}/${i.planned}${i.notAccepted ? `, ${i.notAccepted} never accepted` : ''}${i.rejected ? `, ${i.rejected} refused` : ''}; ${i.tries} tries, ${i.duplicateAnswers} answered duplicate; latency p50 ${i.latencyMs.p50} ms, p99 ${i.latencyMs.p99} ms, max ${i.latencyMs.max} ms`);
  if (i.perApi.length) lines.push(`    per API: ${i.perApi.map(apiCounts).join('; ')}`);
  const down = r.verdict?.ingestWhileTemporalDown;
  if (down) lines.push(`    ingest while Temporal was down: ${down.tries} tries, p50 ${down.p50} ms, p99 ${down.p99} ms, max ${down.max} ms`);
  for (const f of r.faults) lines.push(`    fault: ${f.what}, ${f.to ? `${((f.to - f.from) / 1000).toFixed(1)} s` : 'never recovered'}`);
  if (r.verdict) {
    const v = r.verdict;
    const causes = (c: string) => v.duplicateSends.filter((d) => d.cause === c).length;
    lines.push(`    deliveries expected ${v.deliveriesExpected}, received ${v.deliveriesReceived}, lost ${v.lost.length}, duplicated ${v.duplicated.length} (sends: ${causes('cut-by-crash')} cut by the crash, ${causes('after-completion')} after completion, ${causes('unexplained')} unexplained), retries after a non-2xx ${v.retries}`);
    const timeline = r.timeline ? ` (load ended at +${r.timeline.loadEnded} s, last request at +${r.timeline.lastRequest} s)` : '';
    lines.push(`    settled: ${r.settled ? `yes, ${r.settleSeconds} s after the load` : `NO within ${r.settleSeconds} s`}${timeline}; workflows with >1 run: ${v.multiRun.length}`);
    for (const rule of v.rules) lines.push(`    [${rule.ok ? 'ok' : 'FAIL'}] ${rule.rule}: ${rule.detail}`);
    for (const t of v.targets) lines.push(`    [target ${t.met ? 'met' : 'MISSED'}] ${t.target}: ${t.measured}`);
  }
  if (r.error) lines.push(`    error: ${r.error}`);
  for (const note of r.notes) lines.push(`    note: ${note}`);
  return lines.join('\n');
}

const apiCounts = (a: ApiIngestCounts) =>
  `${a.api} ${a.tries} tries: ${a.accepted} accepted, ${a.refused} refused (connection)${a.failed ? `, ${a.failed} answered ${Object.entries(a.failedStatuses).map(([status, k]) => `${status} ×${k}`).join(' and ')}` : ''}${a.errors ? `, ${a.errors} reset or timed out` : ''}`;

/** The same in one table cell: accepted ÷ tries per API, refused connections in brackets. */
const apiCell = (r: ScenarioResult) => r.ingest.perApi.map((a) => `${a.api} ${a.accepted}/${a.tries}${a.refused ? ` (${a.refused} refused)` : ''}`).join(', ');

export function markdownTable(results: ScenarioResult[]): string {
  const cluster = results.some((r) => r.ingest.perApi.length > 1);
  const head = `| scenario | accepted | expected | received | lost | duplicated (cut / after completion / unexplained) | >1 run | log agrees | ingest max ms | ingest p99 while Temporal down (ms, tries; target ≤ 100) |${cluster ? ' accepted ÷ tries per API |' : ''} settled (s) | result |`;
  const rows = results.map((r) => {
    const v = r.verdict;
    const perApi = cluster ? ` ${apiCell(r)} |` : '';
    if (!v) return `| ${r.name} | ${r.ingest.accepted} | – | – | – | – | – | – | ${r.ingest.latencyMs.max} | – |${perApi} – | ERROR: ${r.error} |`;
    const n = (c: string) => v.duplicateSends.filter((d) => d.cause === c).length;
    const failed = v.rules.filter((x) => !x.ok).map((x) => x.rule);
    const down = v.ingestWhileTemporalDown ? `${v.ingestWhileTemporalDown.p99} (${v.ingestWhileTemporalDown.tries})${v.ingestWhileTemporalDown.p99 <= INGEST_P99_TARGET_MS ? '' : ' missed'}` : '–';
    return `| ${r.name} | ${v.eventsAccepted} | ${v.deliveriesExpected} | ${v.deliveriesReceived} | ${v.lost.length} | ${v.duplicated.length} (${n('cut-by-crash')} / ${n('after-completion')} / ${n('unexplained')}) | ${v.multiRun.length} | ${v.logMismatches.length === 0 ? 'yes' : `no (${v.logMismatches.length})`} | ${r.ingest.latencyMs.max} | ${down} |${perApi} ${r.settled ? r.settleSeconds : `no (${r.settleSeconds})`} | ${v.pass ? 'pass' : `FAIL: ${failed.join('; ')}`} |`;
  });
  return [head, '|' + '---|'.repeat(cluster ? 13 : 12), ...rows].join('\n');
}
