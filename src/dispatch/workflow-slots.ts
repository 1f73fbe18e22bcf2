/**
 * How many more deliveries this worker should take right now: its admission (DISPATCH_MAX_IN_FLIGHT) less the
 * deliveries it started whose attempt has not begun (eager ones hold a slot already; the others are in Temporal's
 * queue, bound for the next free slot) and the local attempts doing CPU work (loading, writing, recording). An
 * attempt whose request is out waits on its receiver, not on a core, and is not counted: a slow receiver does not
 * hold back the others. The outbox dispatcher claims no more than this, so a burst waits in PostgreSQL (cheap, and
 * claimed fairly) instead of in Temporal's task queue or a core's run queue, and the starts it makes go eager.
 */
export class WorkflowSlots {
  /** Local attempts preparing or recording (CPU work), by step key. */
  private readonly running = new Set<string>();
  /** Local attempts whose request is out: waiting on the receiver, not on a core, so not counted. */
  private readonly waiting = new Set<string>();
  /** Deliveries started here whose attempt has not begun, by id, with when (insertion order is age order). */
  private readonly awaiting = new Map<string, number>();
  private fullUntil = 0;
  /** Told when an attempt ends and frees its slot (the dispatcher, waiting for room, looks again at once). */
  onRelease: (() => void) | null = null;

  constructor(
    private readonly slots: number,
    /** A start whose attempt never began here (its task went to another worker) stops counting after this. */
    private readonly awaitingTtlMs = 10_000,
  ) {}

  /** A start this process made: it holds a slot until its attempt begins. */
  started(deliveryId: string, eager: boolean): void {
    this.awaiting.set(deliveryId, Date.now());
    // Temporal found no free slot: something this count does not see holds them (retries, health, activities).
    if (!eager) this.fullUntil = Date.now() + 50;
  }

  attemptBegan(deliveryId: string, step: string): void {
    this.awaiting.delete(deliveryId);
    this.running.add(step);
  }

  /** The attempt's request went out: until its answer the attempt waits on the receiver, which costs no core. */
  requestSent(step: string): void {
    if (this.running.delete(step)) {
      this.waiting.add(step);
      this.onRelease?.();
    }
  }

  attemptEnded(step: string): void {
    if (this.running.delete(step) || this.waiting.delete(step)) this.onRelease?.();
  }

  /** Local attempts whose request is out (each holds a workflow-task slot while it waits). */
  get waitingOnReceivers(): number {
    return this.waiting.size;
  }

  /** Deliveries that may be started now (0 when full). */
  room(now = Date.now()): number {
    if (now < this.fullUntil) return 0;
    for (const [id, at] of this.awaiting) {
      if (now - at < this.awaitingTtlMs) break; // insertion order is age order
      this.awaiting.delete(id);
    }
    return Math.max(0, this.slots - this.running.size - this.awaiting.size);
  }
}
