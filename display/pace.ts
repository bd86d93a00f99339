/**
 * Estimates the time between incoming frames, so a blend to the next picture lasts
 * about as long as the wait for the one after it: then the screen is always in
 * motion and never holds still between frames. A running (exponential) average
 * follows the frame rate the server reaches without jittering with single frames.
 */
export interface PaceOptions {
  /** The guess before two frames have arrived. */
  initialMs: number;
  minMs: number;
  maxMs: number;
  /** A gap this long is a pause (server busy, reconnect), not a frame rate; it is not averaged in. */
  pauseMs: number;
  /** Weight of the newest gap in the average. */
  weight: number;
}

export const DEFAULT_PACE: Readonly<PaceOptions> = Object.freeze({
  initialMs: 100,
  minMs: 8,
  maxMs: 1000,
  pauseMs: 2000,
  weight: 0.2,
});

export class FramePace {
  private last: number | null = null;
  private average: number;

  constructor(private readonly options: Readonly<PaceOptions> = DEFAULT_PACE) {
    this.average = options.initialMs;
  }

  /** Records an arrival at `now` (ms) and returns the expected interval to the next frame. */
  arrive(now: number): number {
    const { minMs, maxMs, pauseMs, weight } = this.options;
    if (this.last !== null) {
      const gap = now - this.last;
      if (gap < pauseMs) {
        const clamped = Math.min(maxMs, Math.max(minMs, gap));
        this.average += (clamped - this.average) * weight;
      }
    }
    this.last = now;
    return this.average;
  }

  get intervalMs(): number {
    return this.average;
  }
}
