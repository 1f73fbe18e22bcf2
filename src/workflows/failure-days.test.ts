import {
  DISABLE_AFTER_FAILURE_DAYS,
  FailureDayState,
  breakExpiredStreak,
  closeOpenDay,
  currentStreak,
  dayEnd,
  dayStart,
  disableDay,
  initialFailureDayState,
  markWarned,
  recordOutcome,
  streakBreaksAt,
  utcDay,
  warningDue,
} from './failure-days';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const DAY1 = Date.parse('2024-03-10T00:00:00.000Z');
/** Epoch ms of `hour` o'clock (UTC) on day `n` (1-based, day 1 = 2024-03-10). */
const at = (n: number, hour = 12, minute = 0) => DAY1 + (n - 1) * DAY + hour * HOUR + minute * 60_000;

const fail = (s: FailureDayState, t: number, error = 'HTTP 500') => recordOutcome(s, { succeeded: false, at: t, error });
const succeed = (s: FailureDayState, t: number) => recordOutcome(s, { succeeded: true, at: t, error: null });

/** What the health workflow does when the open day's timer fires at its end: true when the webhook must be disabled. */
const endOfOpenDay = (s: FailureDayState) => closeOpenDay(s);

describe('UTC day helpers', () => {
  it('maps an instant to its UTC calendar day and back', () => {
    expect(utcDay(at(1, 0, 0))).toBe('2024-03-10');
    expect(utcDay(at(1, 23, 59) + 59_999)).toBe('2024-03-10');
    expect(utcDay(at(2, 0, 0))).toBe('2024-03-11');
    expect(dayStart('2024-03-10')).toBe(DAY1);
    expect(dayEnd('2024-03-10')).toBe(DAY1 + DAY);
    // Month and year boundaries.
    expect(utcDay(dayEnd('2024-02-29'))).toBe('2024-03-01');
    expect(utcDay(dayEnd('2024-12-31'))).toBe('2025-01-01');
  });
});

describe('failure days', () => {
  it(`disables at the end of the ${DISABLE_AFTER_FAILURE_DAYS}rd consecutive failure day, not before`, () => {
    const s = initialFailureDayState();
    expect(fail(s, at(1, 9))).toBe(false);
    expect(fail(s, at(1, 15), 'HTTP 502')).toBe(false);
    expect(endOfOpenDay(s)).toBe(false);
    expect(s.streak).toBe(1);
    expect(s.failingSince).toBe(new Date(at(1, 9)).toISOString());

    expect(fail(s, at(2, 3))).toBe(false);
    expect(endOfOpenDay(s)).toBe(false);
    expect(s.streak).toBe(2);

    expect(fail(s, at(3, 1))).toBe(false);
    expect(fail(s, at(3, 22), 'Connection refused')).toBe(false);
    expect(s.streak).toBe(2); // the third day is still open
    expect(endOfOpenDay(s)).toBe(true);
    expect(s.streak).toBe(3);
    expect(s.failingSince).toBe(new Date(at(1, 9)).toISOString());
    expect(s.lastError).toBe('Connection refused');
    expect(s.lastFailureAt).toBe(new Date(at(3, 22)).toISOString());
  });

  it('closes the previous day when an outcome of the next day arrives first', () => {
    const s = initialFailureDayState();
    fail(s, at(1));
    expect(fail(s, at(2))).toBe(false); // closes day 1
    expect(s.streak).toBe(1);
    expect(fail(s, at(3))).toBe(false); // closes day 2
    expect(s.streak).toBe(2);
    expect(fail(s, at(4))).toBe(true); // closes day 3: the threshold is reached
    expect(s.streak).toBe(3);
    expect(s.openDay).toBe(utcDay(at(4)));
  });

  it('a day with a success is not a failure day, whatever the order, and resets the streak', () => {
    for (const order of ['success-last', 'success-first'] as const) {
      const s = initialFailureDayState();
      fail(s, at(1));
      endOfOpenDay(s);
      fail(s, at(2));
      endOfOpenDay(s);
      expect(s.streak).toBe(2);
      if (order === 'success-last') {
        fail(s, at(3, 8));
        succeed(s, at(3, 9));
      } else {
        succeed(s, at(3, 8));
        fail(s, at(3, 9));
      }
      expect(endOfOpenDay(s)).toBe(false);
      expect(s.streak).toBe(0);
      expect(s.failingSince).toBeNull();
      // The next failures start a new streak from one.
      fail(s, at(4));
      expect(endOfOpenDay(s)).toBe(false);
      expect(s.streak).toBe(1);
      expect(s.failingSince).toBe(new Date(at(4)).toISOString());
    }
  });

  it('a day without attempts breaks the streak', () => {
    const s = initialFailureDayState();
    fail(s, at(1));
    endOfOpenDay(s);
    fail(s, at(2));
    endOfOpenDay(s);
    // Day 3: nothing. Day 4: failures.
    fail(s, at(4));
    expect(endOfOpenDay(s)).toBe(false);
    expect(s.streak).toBe(1);
    expect(s.failingSince).toBe(new Date(at(4)).toISOString());
    fail(s, at(5));
    expect(endOfOpenDay(s)).toBe(false);
    fail(s, at(6));
    expect(endOfOpenDay(s)).toBe(true); // days 4, 5, 6
  });

  it('a late outcome for a day already closed does not break the streak', () => {
    // An attempt at 23:59:58 on day 2 whose outcome arrives after the day was closed at midnight.
    const s = initialFailureDayState();
    fail(s, at(1));
    endOfOpenDay(s);
    fail(s, at(2, 10));
    endOfOpenDay(s);
    expect(s.streak).toBe(2);
    expect(s.lastFailureDay).toBe(utcDay(at(2)));

    expect(fail(s, at(2, 23, 59) + 58_000, 'Timed out after 10 s')).toBe(false);
    // The workflow closes any open day that is already over.
    if (s.openDay && at(3, 0, 1) >= dayEnd(s.openDay)) expect(endOfOpenDay(s)).toBe(false);
    expect(s.streak).toBe(2);
    expect(s.failingSince).toBe(new Date(at(1)).toISOString());
    expect(s.lastError).toBe('Timed out after 10 s');

    // Day 3 still completes the streak.
    fail(s, at(3, 6));
    expect(endOfOpenDay(s)).toBe(true);
    expect(s.streak).toBe(3);
  });

  it('a late failure for a day that had a success does not make it a failure day', () => {
    const s = initialFailureDayState();
    fail(s, at(1));
    endOfOpenDay(s);
    succeed(s, at(2, 10));
    endOfOpenDay(s);
    expect(s.streak).toBe(0);
    fail(s, at(2, 23, 59) + 58_000); // arrives after day 2 was closed
    expect(s.openDay).toBeNull();
    expect(s.streak).toBe(0);
    fail(s, at(3));
    expect(endOfOpenDay(s)).toBe(false);
    fail(s, at(4));
    expect(endOfOpenDay(s)).toBe(false); // days 3 and 4 only: day 2 had a success
    expect(s.streak).toBe(2);
    expect(s.failingSince).toBe(new Date(at(3)).toISOString());
  });

  it('a late failure for a day without other attempts still counts that day', () => {
    // Day 2's only attempt, at 23:59:55, times out after midnight.
    const s = initialFailureDayState();
    fail(s, at(1));
    endOfOpenDay(s);
    fail(s, at(2, 23, 59) + 55_000, 'Timed out after 10 s');
    expect(s.openDay).toBe(utcDay(at(2)));
    expect(endOfOpenDay(s)).toBe(false);
    expect(s.streak).toBe(2);
    fail(s, at(3));
    expect(endOfOpenDay(s)).toBe(true);
  });

  it('a late failure older than the last one keeps the newest error', () => {
    const s = initialFailureDayState();
    fail(s, at(1));
    endOfOpenDay(s);
    fail(s, at(2, 20), 'newest');
    endOfOpenDay(s);
    fail(s, at(2, 19), 'older');
    expect(s.lastError).toBe('newest');
    expect(s.lastFailureAt).toBe(new Date(at(2, 20)).toISOString());
  });

  it('a late success for a day already counted as a failure day resets the streak', () => {
    const s = initialFailureDayState();
    fail(s, at(1));
    endOfOpenDay(s);
    fail(s, at(2, 10));
    endOfOpenDay(s);
    succeed(s, at(2, 23, 59));
    if (s.openDay && at(3, 0, 1) >= dayEnd(s.openDay)) endOfOpenDay(s);
    expect(s.streak).toBe(0);
    fail(s, at(3));
    expect(endOfOpenDay(s)).toBe(false);
    expect(s.streak).toBe(1);
  });

  it("a failure's lastSuccessAt counts a success that was never signalled, on its own day", () => {
    const s = initialFailureDayState();
    fail(s, at(1));
    endOfOpenDay(s);
    fail(s, at(2));
    endOfOpenDay(s);
    // Day 3: a success at 08:00 that was not signalled, then a failure that names it.
    recordOutcome(s, { succeeded: false, at: at(3, 9), error: 'HTTP 500', lastSuccessAt: at(3, 8) });
    expect(s.streak).toBe(0);
    expect(endOfOpenDay(s)).toBe(false);
    expect(s.streak).toBe(0);
    expect(s.lastError).toBe('HTTP 500');
  });

  it("an old lastSuccessAt, from before the streak, changes nothing", () => {
    const s = initialFailureDayState();
    const longAgo = at(1) - 10 * DAY;
    recordOutcome(s, { succeeded: false, at: at(1), error: 'HTTP 500', lastSuccessAt: longAgo });
    endOfOpenDay(s);
    recordOutcome(s, { succeeded: false, at: at(2), error: 'HTTP 500', lastSuccessAt: longAgo });
    endOfOpenDay(s);
    recordOutcome(s, { succeeded: false, at: at(3), error: 'HTTP 500', lastSuccessAt: longAgo });
    expect(endOfOpenDay(s)).toBe(true);
    expect(s.streak).toBe(3);
  });

  it('a lastSuccessAt the day before a new streak only closes that day', () => {
    // Healthy on day 1 (its successes not signalled), failing from day 2 on.
    const s = initialFailureDayState();
    recordOutcome(s, { succeeded: false, at: at(2, 1), error: 'HTTP 500', lastSuccessAt: at(1, 22) });
    expect(s.openDay).toBe(utcDay(at(2)));
    expect(endOfOpenDay(s)).toBe(false);
    expect(s.streak).toBe(1);
    expect(s.failingSince).toBe(new Date(at(2, 1)).toISOString());
    recordOutcome(s, { succeeded: false, at: at(3), error: 'HTTP 500', lastSuccessAt: at(1, 22) });
    endOfOpenDay(s);
    recordOutcome(s, { succeeded: false, at: at(4), error: 'HTTP 500', lastSuccessAt: at(1, 22) });
    expect(endOfOpenDay(s)).toBe(true); // days 2, 3, 4
  });

  it('closing with no open day is a no-op', () => {
    const s = initialFailureDayState();
    expect(closeOpenDay(s)).toBe(false);
    expect(s).toEqual(initialFailureDayState());
  });

  it('keeps only plain JSON (it is carried across continue-as-new)', () => {
    const s = initialFailureDayState();
    fail(s, at(1));
    endOfOpenDay(s);
    fail(s, at(2));
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
  });
});

describe('currentStreak (the query)', () => {
  it('counts closed failure days while the streak can still continue', () => {
    const s = initialFailureDayState();
    expect(currentStreak(s, at(1))).toBe(0);
    fail(s, at(1));
    expect(currentStreak(s, at(1, 13))).toBe(0); // day 1 not closed yet
    endOfOpenDay(s);
    expect(currentStreak(s, at(2, 0, 1))).toBe(1);
    expect(currentStreak(s, at(2, 23))).toBe(1); // day 2 may still fail
    fail(s, at(2));
    endOfOpenDay(s);
    expect(currentStreak(s, at(3, 1))).toBe(2);
    // Day 3 open with a failure and over, but not closed yet: the streak still stands.
    fail(s, at(3));
    expect(currentStreak(s, at(4, 0, 0))).toBe(2);
  });

  it('reads as 0 once a whole day passed without attempts', () => {
    const s = initialFailureDayState();
    fail(s, at(1));
    endOfOpenDay(s);
    fail(s, at(2));
    endOfOpenDay(s);
    expect(currentStreak(s, at(3, 23, 59))).toBe(2);
    expect(currentStreak(s, at(4, 0, 0))).toBe(0);
  });
});

describe('breaking a streak for want of attempts (the workflow wakes for it)', () => {
  it('is due at the end of the day after the last failure day, only while no day is open', () => {
    const s = initialFailureDayState();
    expect(streakBreaksAt(s)).toBeNull();
    fail(s, at(1));
    expect(streakBreaksAt(s)).toBeNull(); // a day is open: its own end comes first
    endOfOpenDay(s);
    fail(s, at(2));
    endOfOpenDay(s);
    expect(streakBreaksAt(s)).toBe(dayEnd(utcDay(at(3))));

    expect(breakExpiredStreak(s, at(3, 23, 59))).toBe(false);
    expect(s.streak).toBe(2);
    expect(breakExpiredStreak(s, dayEnd(utcDay(at(3))))).toBe(true);
    expect(s).toMatchObject({ streak: 0, lastFailureDay: null, failingSince: null, lastError: 'HTTP 500' });
    expect(streakBreaksAt(s)).toBeNull(); // nothing more to wake for
    expect(breakExpiredStreak(s, at(9))).toBe(false);
  });

  it('an attempt on the next day keeps the streak going instead', () => {
    const s = initialFailureDayState();
    fail(s, at(1));
    endOfOpenDay(s);
    fail(s, at(2, 23));
    expect(streakBreaksAt(s)).toBeNull();
    expect(endOfOpenDay(s)).toBe(false);
    expect(s.streak).toBe(2);
  });

  it('has nothing to break after a success', () => {
    const s = initialFailureDayState();
    succeed(s, at(1));
    endOfOpenDay(s);
    expect(streakBreaksAt(s)).toBeNull();
  });
});

describe('the warning before the disable', () => {
  /** What the workflow does after each step: warn when due, once. Returns whether it warned now. */
  const warnIfDue = (s: FailureDayState) => {
    if (!warningDue(s)) return false;
    markWarned(s);
    return true;
  };

  it('is due once the first failure day has closed, once per streak, and names the day whose end disables', () => {
    const s = initialFailureDayState();
    fail(s, at(1, 9));
    expect(warnIfDue(s)).toBe(false); // day 1 still open: not a full failure day yet
    endOfOpenDay(s);
    expect(disableDay(s)).toBe('2024-03-12'); // day 3: if it fails too, the webhook is disabled at its end
    expect(warnIfDue(s)).toBe(true);
    expect(warnIfDue(s)).toBe(false);
    fail(s, at(2));
    endOfOpenDay(s);
    expect(s.streak).toBe(2);
    expect(disableDay(s)).toBe('2024-03-12');
    expect(warnIfDue(s)).toBe(false); // the same streak
    fail(s, at(3));
    expect(endOfOpenDay(s)).toBe(true);
    expect(warnIfDue(s)).toBe(false); // at the threshold: the disable email, not a warning
  });

  it('is not due for a day with a success, and a success resets so a new streak warns again', () => {
    const s = initialFailureDayState();
    fail(s, at(1, 9));
    succeed(s, at(1, 10));
    endOfOpenDay(s);
    expect(warnIfDue(s)).toBe(false);

    fail(s, at(2, 9));
    endOfOpenDay(s);
    expect(warnIfDue(s)).toBe(true);
    succeed(s, at(3, 8));
    expect(warnIfDue(s)).toBe(false);
    endOfOpenDay(s);
    fail(s, at(4, 9));
    endOfOpenDay(s);
    expect(s.failingSince).toBe(new Date(at(4, 9)).toISOString());
    expect(warnIfDue(s)).toBe(true); // a new streak
    expect(disableDay(s)).toBe('2024-03-15');
  });

  it('a streak broken by a day without attempts warns again when a new one starts', () => {
    const s = initialFailureDayState();
    fail(s, at(1));
    endOfOpenDay(s);
    expect(warnIfDue(s)).toBe(true);
    expect(breakExpiredStreak(s, dayEnd(utcDay(at(2))))).toBe(true);
    expect(warnIfDue(s)).toBe(false);
    expect(disableDay(s)).toBeNull();
    fail(s, at(3));
    endOfOpenDay(s);
    expect(warnIfDue(s)).toBe(true);
  });

  it('survives continue-as-new: the mark is plain JSON, and a state from before the warning existed can warn', () => {
    const s = initialFailureDayState();
    fail(s, at(1));
    endOfOpenDay(s);
    markWarned(s);
    const carried: FailureDayState = JSON.parse(JSON.stringify(s));
    expect(warningDue(carried)).toBe(false);
    const older: FailureDayState = JSON.parse(JSON.stringify({ ...s, warnedFailingSince: undefined }));
    expect(warningDue(older)).toBe(true);
  });
});
