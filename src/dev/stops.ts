type Log = (line: string) => void;

/** What stops the parts started so far, last first. */
export class Stops {
  private readonly steps: (() => Promise<unknown>)[] = [];
  /** Set by a signal: start-up gives up at its next step, then everything started is stopped. */
  requested = false;
  constructor(private readonly log: Log) {}
  push(step: () => Promise<unknown>): void {
    this.steps.push(step);
  }
  /** Called between start-up steps. */
  checkpoint(): void {
    if (this.requested) throw new Error('stopped while starting');
  }
  async run(): Promise<void> {
    this.requested = true;
    for (let step = this.steps.pop(); step; step = this.steps.pop()) await step().catch((err: Error) => this.log(`shutdown step failed: ${err.message}`));
  }
}
