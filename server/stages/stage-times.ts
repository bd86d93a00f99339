/**
 * Each stage's time per frame, smoothed: the newest frame moves the average by `weight`,
 * so one slow frame (a GC pause, a first inference) does not swing it. The loop reports
 * these in /status; the upscaler budgets its passes with them.
 */
export class StageTimes {
  private readonly avg = new Map<string, number>();

  constructor(private readonly weight = 0.1) {}

  /** Fold one frame's stage times (ms by stage name) into the averages. */
  learn(timings: Readonly<Record<string, number>>): void {
    for (const [name, ms] of Object.entries(timings)) {
      const prev = this.avg.get(name);
      this.avg.set(name, prev === undefined ? ms : prev * (1 - this.weight) + ms * this.weight);
    }
  }

  get(name: string): number | undefined {
    return this.avg.get(name);
  }

  entries(): IterableIterator<[string, number]> {
    return this.avg.entries();
  }
}
