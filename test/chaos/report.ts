/** Printing chaos results: a block per scenario as it ends, and a Markdown table for docs/reliability.md. */
import type { ScenarioResult } from './scenario';

export function scenarioBlock(r: ScenarioResult): string {
  const lines = [`  → ${r.error ? 'ERROR' : r.verdict?.pass ? 'PASS' : 'FAIL'}  ${r.name} (${r.durationSeconds} s)`];
  const i = r.ingest;
  lines.push(`    events accepted (202): ${i.accepted}/${i.planned}${i.notAccepted ? `, ${i.notAccepted} never accepted` : ''}${i.rejected ? `, ${i.rejected} refused` : ''}; ${i.tries} tries, ${i.duplicateAnswers} answered duplicate; latency p50 ${i.latencyMs.p50} ms, p99 ${i.latencyMs.p99} ms, max ${i.latencyMs.max} ms`);
  for (const f of r.faults) lines.push(`    fault: ${f.what}, ${f.to ? `${((f.to - f.from) / 1000).toFixed(1)} s` : 'never recovered'}`);
  if (r.verdict) {
    const v = r.verdict;
    const causes = (c: string) => v.duplicateSends.filter((d) => d.cause === c).length;
    lines.push(`    deliveries expected ${v.deliveriesExpected}, received ${v.deliveriesReceived}, lost ${v.lost.length}, duplicated ${v.duplicated.length} (sends: ${causes('cut-by-crash')} cut by the crash, ${causes('after-completion')} after completion, ${causes('unexplained')} unexplained), retries after a non-2xx ${v.retries}`);
    const timeline = r.timeline ? ` (load ended at +${r.timeline.loadEnded} s, last request at +${r.timeline.lastRequest} s)` : '';
    lines.push(`    settled: ${r.settled ? `yes, ${r.settleSeconds} s after the load` : `NO within ${r.settleSeconds} s`}${timeline}; workflows with >1 run: ${v.multiRun.length}`);
    for (const rule of v.rules) lines.push(`    [${rule.ok ? 'ok' : 'FAIL'}] ${rule.rule}: ${rule.detail}`);
  }
  if (r.error) lines.push(`    error: ${r.error}`);
  for (const note of r.notes) lines.push(`    note: ${note}`);
  return lines.join('\n');
}

export function markdownTable(results: ScenarioResult[]): string {
  const head = '| scenario | accepted | expected | received | lost | duplicated (cut / after completion / unexplained) | >1 run | log agrees | ingest max ms | settled (s) | result |';
  const rows = results.map((r) => {
    const v = r.verdict;
    if (!v) return `| ${r.name} | ${r.ingest.accepted} | – | – | – | – | – | – | ${r.ingest.latencyMs.max} | – | ERROR: ${r.error} |`;
    const n = (c: string) => v.duplicateSends.filter((d) => d.cause === c).length;
    const failed = v.rules.filter((x) => !x.ok).map((x) => x.rule);
    return `| ${r.name} | ${v.eventsAccepted} | ${v.deliveriesExpected} | ${v.deliveriesReceived} | ${v.lost.length} | ${v.duplicated.length} (${n('cut-by-crash')} / ${n('after-completion')} / ${n('unexplained')}) | ${v.multiRun.length} | ${v.logMismatches.length === 0 ? 'yes' : `no (${v.logMismatches.length})`} | ${r.ingest.latencyMs.max} | ${r.settled ? r.settleSeconds : `no (${r.settleSeconds})`} | ${v.pass ? 'pass' : `FAIL: ${failed.join('; ')}`} |`;
  });
  return [head, '|' + '---|'.repeat(11), ...rows].join('\n');
}
