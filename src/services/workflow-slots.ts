/**
 * How many more deliveries this worker can take right now without queueing in Temporal: its workflow-task slots
 * less the local attempts running (each holds a slot for its whole request) and the deliveries it started whose
 * attempt has not begun yet (eager ones hold a slot already; the others are in Temporal's queue, bound for the next
 * free slot). The outbox dispatcher claims no more than that, so a burst waits in PostgreSQL (cheap, and claimed
 * fairly) instead of in Temporal's task queue, and the starts it makes go eager.
 */
export class WorkflowSlots {
  private attempts = 0;
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

  attemptBegan(deliveryId: string): void {
    this.awaiting.delete(deliveryId);
    this.attempts++;
  }

  attemptEnded(): void {
    this.attempts = Math.max(0, this.attempts - 1);
    this.onRelease?.();
  }

  /** Deliveries that may be started now (0 when full). */
  room(now = Date.now()): number {
    if (now < this.fullUntil) return 0;
    for (const [id, at] of this.awaiting) {
      if (now - at < this.awaitingTtlMs) break; // insertion order is age order
      this.awaiting.delete(id);
    }
    return Math.max(0, this.slots - this.attempts - this.awaiting.size);
  }
}
