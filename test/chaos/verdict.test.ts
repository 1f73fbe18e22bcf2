import { computeVerdict, FaultWindow, Observation, ObservedRequest } from './verdict';

const T0 = 1_700_000_000_000;
const ok = (deliveryId: string, at: number): ObservedRequest => ({ deliveryId, receivedAt: T0 + at, answeredAt: T0 + at + 5, abandonedAt: null, status: 200 });
const failed = (deliveryId: string, at: number): ObservedRequest => ({ deliveryId, receivedAt: T0 + at, answeredAt: T0 + at + 5, abandonedAt: null, status: 500 });
const abandoned = (deliveryId: string, at: number, after: number): ObservedRequest => ({ deliveryId, receivedAt: T0 + at, answeredAt: null, abandonedAt: T0 + at + after, status: null });
const run = (deliveryId: string, start: number, close: number | null, runId = `run-${start}`) => ({
  workflowId: `delivery:${deliveryId}`,
  runId,
  startTime: T0 + start,
  closeTime: close === null ? null : T0 + close,
});
const workerKill = (from: number, to: number): FaultWindow => ({ part: 'worker', what: 'kill -9 worker', from: T0 + from, to: T0 + to });

/** Two accepted events, two webhooks: four deliveries, each delivered once and logged once. */
function clean(): Observation {
  const deliveries = [
    { id: 'd1', eventId: 'e1', webhookId: 'w1' },
    { id: 'd2', eventId: 'e1', webhookId: 'w2' },
    { id: 'd3', eventId: 'e2', webhookId: 'w1' },
    { id: 'd4', eventId: 'e2', webhookId: 'w2' },
  ].map((d) => ({ ...d, status: 'succeeded', attemptsLogged: 1 }));
  return {
    scenario: 'test',
    acceptedEventIds: ['e1', 'e2'],
    webhookIds: ['w1', 'w2'],
    deliveries,
    requests: deliveries.map((d, i) => ok(d.id, i * 100)),
    runs: deliveries.map((d, i) => run(d.id, i * 100 - 10, i * 100 + 50)),
    faults: [],
  };
}

const rule = (v: ReturnType<typeof computeVerdict>, name: string) => v.rules.find((r) => r.rule.startsWith(name))!;

it('passes a run where every delivery arrived once, is logged and ran once', () => {
  const v = computeVerdict(clean());
  expect(v).toMatchObject({ eventsAccepted: 2, deliveriesExpected: 4, deliveriesReceived: 4, lost: [], duplicated: [], multiRun: [], logMismatches: [], pass: true });
  expect(v.rules.map((r) => r.ok)).toEqual([true, true, true, true, true]);
});

it('fails a run that did not settle by its deadline, saying what was left', () => {
  const v = computeVerdict({ ...clean(), unsettled: '3 events not yet dispatched (waiting for the outbox)' });
  expect(rule(v, 'settles')).toEqual({ rule: 'settles within the deadline', ok: false, detail: 'still: 3 events not yet dispatched (waiting for the outbox)' });
  expect(v.pass).toBe(false);
});

it('counts a delivery lost when it never got a 2xx, or when the accepted event has no delivery at all', () => {
  const o = clean();
  o.requests = o.requests.filter((r) => r.deliveryId !== 'd2').concat(failed('d2', 10));
  o.deliveries = o.deliveries.filter((d) => d.id !== 'd4').map((d) => (d.id === 'd2' ? { ...d, status: 'retrying' } : d));
  const v = computeVerdict(o);
  expect(v.lost).toEqual(['d2', 'e2 → w2 (no delivery in the log)']);
  expect(v.deliveriesReceived).toBe(3);
  expect(rule(v, 'nothing lost').ok).toBe(false);
  expect(v.pass).toBe(false);
});

it('ignores deliveries of events that were never accepted', () => {
  const o = clean();
  o.acceptedEventIds = ['e1'];
  const v = computeVerdict(o);
  expect(v).toMatchObject({ eventsAccepted: 1, deliveriesExpected: 2, lost: [], pass: true });
});

it('flags a send after the delivery workflow completed, and a second run nobody asked for (defect 1)', () => {
  const o = clean();
  o.requests.push(ok('d1', 40_000));
  o.runs.push(run('d1', 39_990, 40_050, 'second'));
  o.deliveries[0].attemptsLogged = 2;
  const v = computeVerdict(o);
  expect(v.duplicated).toEqual(['d1']);
  expect(v.duplicateSends).toEqual([{ deliveryId: 'd1', at: T0 + 40_000, cause: 'after-completion' }]);
  expect(v.multiRun).toEqual([{ workflowId: 'delivery:d1', runs: 2 }]);
  expect(rule(v, 'a completed delivery').ok).toBe(false);
  expect(rule(v, 'duplicates only').ok).toBe(true);
});

it('accepts a second run that was an explicit redelivery', () => {
  const o = clean();
  o.requests.push(ok('d1', 40_000));
  o.runs.push(run('d1', 39_990, 40_050, 'second'));
  o.deliveries[0].attemptsLogged = 2;
  o.redelivered = ['d1'];
  const v = computeVerdict(o);
  expect(v.multiRun).toEqual([]);
  expect(rule(v, 'a completed delivery').ok).toBe(true);
});

it('explains a re-send whose earlier request was cut by a worker crash, but not one without a crash', () => {
  const o = clean();
  // d1: in flight when the worker died at +5 s, sent again after the restart, same run.
  o.requests = o.requests.filter((r) => r.deliveryId !== 'd1').concat(abandoned('d1', 4000, 1000), ok('d1', 60_000));
  o.runs[0] = run('d1', 3990, 60_050);
  o.deliveries[0].attemptsLogged = 2;
  // d3: answered 200 more than the grace period before the crash, and sent again anyway within its run.
  o.requests.push(ok('d3', 62_000));
  o.runs[2] = run('d3', 190, 62_050);
  o.deliveries[2].attemptsLogged = 2;
  o.faults = [workerKill(5000, 20_000)];
  const v = computeVerdict(o);
  expect(v.duplicateSends).toEqual([
    { deliveryId: 'd1', at: T0 + 60_000, cause: 'cut-by-crash' },
    { deliveryId: 'd3', at: T0 + 62_000, cause: 'unexplained' },
  ]);
  expect(v.duplicated.sort()).toEqual(['d1', 'd3']);
  expect(rule(v, 'duplicates only').ok).toBe(false);
  expect(rule(v, 'a completed delivery').ok).toBe(true);
});

it('counts a crash just after the answer (before the attempt could be recorded) as cut, and an API crash never', () => {
  const o = clean();
  o.requests.push(ok('d1', 30_000));
  o.runs[0] = run('d1', -10, 30_050);
  o.deliveries[0].attemptsLogged = 2;
  o.faults = [{ part: 'postgres', what: 'kill -9 postgres', from: T0 + 1500, to: T0 + 9000 }];
  expect(computeVerdict(o).duplicateSends[0].cause).toBe('cut-by-crash');
  o.faults = [{ part: 'api', what: 'kill -9 api', from: T0 + 1, to: T0 + 9000 }];
  expect(computeVerdict(o).duplicateSends[0].cause).toBe('unexplained');
});

it('does not count a retry after a non-2xx answer as a duplicate', () => {
  const o = clean();
  o.requests = o.requests.filter((r) => r.deliveryId !== 'd1').concat(failed('d1', 0), ok('d1', 60_000));
  o.runs[0] = run('d1', -10, 60_050);
  o.deliveries[0].attemptsLogged = 2;
  const v = computeVerdict(o);
  expect(v).toMatchObject({ retries: 1, duplicated: [], duplicateSends: [], pass: true });
});

it('finds where the Delivery Log disagrees with the receiver (defect 2: a cut attempt not logged)', () => {
  const o = clean();
  o.requests = o.requests.filter((r) => r.deliveryId !== 'd1').concat(abandoned('d1', 0, 1000), ok('d1', 60_000));
  o.runs[0] = run('d1', -10, 60_050);
  o.faults = [workerKill(1000, 20_000)];
  o.deliveries[1].status = 'failed';
  const v = computeVerdict(o);
  expect(v.logMismatches).toEqual([
    { deliveryId: 'd1', problem: '1 attempt(s) logged, 2 request(s) received' },
    { deliveryId: 'd2', problem: 'log says failed, receiver answered 2xx' },
  ]);
  expect(rule(v, 'the Delivery Log').ok).toBe(false);
  expect(rule(v, 'duplicates only').ok).toBe(true);
  expect(v.pass).toBe(false);
});

describe('ingest while Temporal is down', () => {
  const temporalKill = (from: number, to: number | null): FaultWindow => ({ part: 'temporal', what: 'kill -9 temporal', from: T0 + from, to: to === null ? null : T0 + to });
  // 100 tries at 10 ms during the outage (+1 s to +11 s), one slow one before and one after it.
  const tries = () => [{ at: T0, ms: 3000 }, ...Array.from({ length: 100 }, (_, i) => ({ at: T0 + 1000 + i * 100, ms: 10 })), { at: T0 + 12_000, ms: 3000 }];

  it('judges only the tries sent while Temporal was down, against the 100 ms p99 target', () => {
    const v = computeVerdict({ ...clean(), faults: [temporalKill(1000, 11_000)], ingestTries: tries() });
    expect(v.ingestWhileTemporalDown).toEqual({ tries: 100, p50: 10, p99: 10, max: 10 });
    expect(v.targets).toEqual([{ target: 'ingest while Temporal is down: p99 ≤ 100 ms', met: true, measured: 'p99 10 ms, max 10 ms over 100 tries' }]);
  });

  it('reports the target missed when more than 1% of those tries took longer than 100 ms, without failing the scenario', () => {
    const slow = tries().map((t, i) => (i >= 1 && i <= 2 ? { ...t, ms: 2500 } : t));
    const v = computeVerdict({ ...clean(), faults: [temporalKill(1000, null)], ingestTries: slow });
    // A window that never closed runs to the end: the slow try after it counts too.
    expect(v.ingestWhileTemporalDown).toEqual({ tries: 101, p50: 10, p99: 2500, max: 3000 });
    expect(v.targets).toEqual([{ target: 'ingest while Temporal is down: p99 ≤ 100 ms', met: false, measured: 'p99 2500 ms, max 3000 ms over 101 tries' }]);
    expect(v.pass).toBe(true);
  });

  it('says when the tries are too few for a percentile', () => {
    const v = computeVerdict({ ...clean(), faults: [temporalKill(1000, 2000)], ingestTries: tries() });
    expect(v.targets[0].measured).toBe('p99 10 ms, max 10 ms over 11 tries (fewer than 100: p99 is their maximum)');
  });

  it('has no such target when Temporal was never down', () => {
    const v = computeVerdict({ ...clean(), faults: [workerKill(1000, 11_000)], ingestTries: tries() });
    expect(v.ingestWhileTemporalDown).toBeNull();
    expect(v.targets).toEqual([]);
  });
});

describe('a workflow task lost in the outage', () => {
  // d1: its workflow task started at +0 s, the database went down at +1 s until +8 s, the task was declared lost at
  // +14 s; the old attempt still sent at +14.5 s (answered 200) and the next task's attempt sent again at +15 s.
  const observation = (lostWorkflowTasks: Observation['lostWorkflowTasks'], faults: FaultWindow[] = [{ part: 'postgres', what: 'stop postgres', from: T0 + 1000, to: T0 + 8000 }]) => {
    const o = clean();
    o.requests = o.requests.filter((r) => r.deliveryId !== 'd1').concat(ok('d1', 14_500), ok('d1', 15_000));
    o.runs[0] = run('d1', 0, 15_100);
    o.deliveries[0].attemptsLogged = 2;
    return { ...o, faults, lostWorkflowTasks };
  };

  it('explains the re-send when the lost task was in progress while an attempt-carrying part was down', () => {
    const v = computeVerdict(observation([{ workflowId: 'delivery:d1', startedAt: T0, lostAt: T0 + 14_000 }]));
    expect(v.duplicateSends).toEqual([{ deliveryId: 'd1', at: T0 + 15_000, cause: 'cut-by-crash', viaLostTask: true }]);
    expect(rule(v, 'duplicates only')).toMatchObject({ ok: true, detail: '1 cut by the crash (1 of them after a workflow task lost in the outage), 0 unexplained' });
    expect(v.pass).toBe(true);
  });

  it('does not explain it without a lost task, nor with one lost outside any outage or only during an API outage', () => {
    expect(computeVerdict(observation([])).duplicateSends[0].cause).toBe('unexplained');
    expect(computeVerdict(observation([{ workflowId: 'delivery:d1', startedAt: T0 + 9000, lostAt: T0 + 14_000 }])).duplicateSends[0].cause).toBe('unexplained');
    const apiOnly = observation([{ workflowId: 'delivery:d1', startedAt: T0, lostAt: T0 + 14_000 }], [{ part: 'api', what: 'kill -9 api-1', from: T0 + 1000, to: T0 + 8000 }]);
    expect(computeVerdict(apiOnly).duplicateSends[0].cause).toBe('unexplained');
  });
});
