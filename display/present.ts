/**
 * Presentation by timestamp, for video walls (common/wall.ts): a frame carries the cluster
 * time at which every screen shows it (meta.presentAt). Decoded frames wait here until
 * the display's estimate of cluster time reaches that moment, checked once per screen
 * refresh; then the newest due frame is shown and any older due ones are dropped. A frame
 * that arrives late is due at once, so it shows at the next refresh. Frames without
 * presentAt (a single screen) show as soon as they arrive, as before walls.
 * No DOM here: the page passes requestAnimationFrame, the benches a timer.
 */
import type { FrameMeta } from '../common/frame.js';

export interface PresenterOptions<T> {
  /** Cluster time (ms) at local time `now` (the refresh callback's timestamp), or null before the clock is known. */
  clusterNow(now: number): number | null;
  /** Calls back at the next screen refresh with its timestamp. */
  requestFrame(callback: (now: number) => void): void;
  show(meta: FrameMeta, item: T, now: number): void;
  /** Frees a frame that will never be shown (e.g. an ImageBitmap's close()). */
  release(item: T): void;
  /** Frames held at most; past it the oldest is dropped (a display far behind its clock). */
  maxHeld?: number;
}

interface Held<T> {
  meta: FrameMeta;
  item: T;
}

export class Presenter<T> {
  private held: Held<T>[] = [];
  private waiting = false;
  private lastShown = -Infinity;

  constructor(private readonly opts: PresenterOptions<T>) {}

  /** A decoded frame: shown now (no presentAt), or held until its time. */
  offer(meta: FrameMeta, item: T, now: number): void {
    if (meta.presentAt === undefined) {
      this.opts.show(meta, item, now);
      return;
    }
    // Newest wins: a frame due before the one on screen is already history.
    if (meta.presentAt <= this.lastShown) {
      this.opts.release(item);
      return;
    }
    this.held.push({ meta, item });
    this.held.sort((a, b) => a.meta.presentAt! - b.meta.presentAt!);
    while (this.held.length > (this.opts.maxHeld ?? 8)) this.opts.release(this.held.shift()!.item);
    this.wait();
  }

  /** Frames waiting for their time. */
  get pending(): number {
    return this.held.length;
  }

  /** Drops everything held (disconnect: the next node's frames start afresh). */
  clear(): void {
    for (const h of this.held) this.opts.release(h.item);
    this.held = [];
    this.lastShown = -Infinity;
  }

  private wait(): void {
    if (this.waiting || this.held.length === 0) return;
    this.waiting = true;
    this.opts.requestFrame((now) => {
      this.waiting = false;
      this.present(now);
      this.wait();
    });
  }

  private present(now: number): void {
    const cluster = this.opts.clusterNow(now);
    let due = -1;
    for (let i = 0; i < this.held.length; i++) {
      // Without a clock estimate yet there is no lockstep to keep: show frames as they come.
      if (cluster === null || this.held[i]!.meta.presentAt! <= cluster) due = i;
    }
    if (due < 0) return;
    const shown = this.held[due]!;
    for (let i = 0; i < due; i++) this.opts.release(this.held[i]!.item);
    this.held = this.held.slice(due + 1);
    this.lastShown = shown.meta.presentAt!;
    this.opts.show(shown.meta, shown.item, now);
  }
}
