/**
 * The frame scheduler: aims at the configured fps, never queues (a frame starts only
 * when the previous one has finished, newest state wins), and idles while no display
 * is connected. Measures the achieved frame rate for /health and the controllers.
 *
 * Frames start on a fixed grid of deadlines (one period apart), not "one period after
 * the last frame ended": timers fire a millisecond or two late, and waiting a full
 * period minus the frame's own time after each of them made 30 fps come out near 29.
 * A frame that overruns its slot is followed at once; one that falls more than a period
 * behind restarts the grid, so a slow spell is never followed by a burst of catch-up frames.
 *
 * On a video wall (common/wall.ts) the grid is the cluster clock's slots instead, the
 * same on every node: a tick starts at a slot's beginning, makes one frame per screen
 * that needs one (each stamped with the slot and the moment to present it), and waits
 * for the next slot boundary. A tick that overran skips the slots it missed. A node that
 * is behind on average (its ticks, smoothed, take most of a slot) keeps to slots that are
 * multiples of a power-of-two stride (2, 4, 8): two nodes that both fall behind then still
 * render the same slots (every other one, say), so their screens keep changing together,
 * at a lower rate.
 */
import { slotAt, slotStart, type WallScreen } from '../../common/wall.js';
import { logger } from '../log.js';
import { newJob, type FrameJob, type Stage, type StateSnapshot } from '../stages/stage.js';
import { runChain, type ChainResult } from './chain.js';
import { StageTimes } from '../stages/stage-times.js';

const log = logger('loop');
const IDLE_POLL_MS = 100;

export interface LoopOptions {
  fps: number;
  /** The live state for the next frame (Store.snapshot): taken once per frame and carried in its job. */
  snapshot: () => StateSnapshot;
  /** Frames are made only while this is true (e.g. a display is connected). */
  active: () => boolean;
  onFrame?: (job: FrameJob, result: ChainResult) => void;
  /** Video walls: frames on the cluster clock's slots, one per target screen (undefined: every display). */
  wall?: WallTiming;
}

export interface WallTiming {
  /** Cluster time, ms since the epoch (server/wall/clock.ts). */
  now: () => number;
  presentDelayMs: number;
  /** The screens this slot needs a frame for; [undefined] makes one frame for every display (mirror). */
  targets: () => (WallScreen | undefined)[];
}

export class FrameLoop {
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private frameNo = 0;
  private fpsAvg = 0;
  private lastFrameAt = 0;
  /** When the next frame is due (performance.now()); 0 when the grid must restart. */
  private dueAt = 0;
  private errorsLogged = 0;
  private current: Promise<void> = Promise.resolve();
  private readonly stageTimes = new StageTimes();
  /** Walls: the last slot a frame was made for, and the stride kept while behind. */
  private lastSlot = -Infinity;
  private readonly stride = new SlotStride();

  constructor(
    private readonly stages: readonly Stage[],
    private readonly opts: LoopOptions,
  ) {}

  /** Frames per second actually produced (smoothed); 0 while idle. */
  get fps(): number {
    return performance.now() - this.lastFrameAt > 2000 ? 0 : this.fpsAvg;
  }

  get frames(): number {
    return this.frameNo;
  }

  /** Walls: every how many slots this node renders now (1 while it keeps up). */
  get wallStride(): number {
    return this.stride.current;
  }

  /** Smoothed milliseconds per stage over recent frames. */
  stageMs(): Record<string, number> {
    return Object.fromEntries([...this.stageTimes.entries()].map(([k, v]) => [k, Math.round(v * 100) / 100]));
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  /** Stops scheduling and waits for the frame in progress. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.current;
  }

  private schedule(delay: number): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.current = this.tick();
    }, delay);
  }

  private async tick(): Promise<void> {
    if (this.opts.wall) return this.wallTick(this.opts.wall);
    if (!this.opts.active()) {
      this.dueAt = 0;
      this.schedule(IDLE_POLL_MS);
      return;
    }
    const started = performance.now();
    if (this.dueAt === 0) this.dueAt = started;
    const job = newJob(++this.frameNo, this.opts.snapshot());
    const result = await runChain(this.stages, job);
    this.account(job, result, true);
    const period = 1000 / this.opts.fps;
    const now = performance.now();
    this.dueAt += period;
    if (this.dueAt < now - period) this.dueAt = now;
    this.schedule(Math.max(0, this.dueAt - now));
  }

  /** One slot: a frame per target screen, then sleep until the next slot boundary on the cluster clock. */
  private async wallTick(wall: WallTiming): Promise<void> {
    const period = 1000 / this.opts.fps;
    const startedAt = wall.now();
    const slot = slotAt(startedAt, period);
    let tickSlots = 0;
    if (this.opts.active() && slot > this.lastSlot) {
      this.lastSlot = slot;
      let produced = false;
      // One snapshot per slot: every screen of the slot shows the same state.
      const snapshot = this.opts.snapshot();
      for (const screen of wall.targets()) {
        const job = newJob(++this.frameNo, snapshot);
        job.meta.slot = slot;
        job.meta.presentAt = slotStart(slot, period) + wall.presentDelayMs;
        if (screen) {
          job.screen = screen;
          job.meta.screen = screen.name;
        }
        const result = await runChain(this.stages, job);
        this.account(job, result, !produced);
        produced ||= result.ok;
      }
      tickSlots = (wall.now() - startedAt) / period;
    }
    if (!this.opts.active()) return this.schedule(IDLE_POLL_MS);
    const now = wall.now();
    const next = this.stride.next(slotAt(now, period), tickSlots);
    // Timers fire a little late, never early.
    this.schedule(Math.max(0, slotStart(next, period) - now));
  }

  /** Frame rate (once per tick), stage times and errors; then the caller's onFrame. */
  private account(job: FrameJob, result: ChainResult, countsForFps: boolean): void {
    if (result.ok) {
      const now = performance.now();
      if (countsForFps) {
        if (this.lastFrameAt) {
          const inst = 1000 / Math.max(1, now - this.lastFrameAt);
          this.fpsAvg = this.fpsAvg ? this.fpsAvg * 0.9 + inst * 0.1 : inst;
        }
        this.lastFrameAt = now;
      }
      this.stageTimes.learn(job.meta.timings);
    } else if (this.errorsLogged++ < 20 || this.errorsLogged % 1000 === 0) {
      log.error({ error: result.error, frame: this.frameNo }, 'frame failed');
    }
    this.opts.onFrame?.(job, result);
  }
}

/** Largest stride a node that falls behind keeps to: at 30 fps, every 8th slot is ~4 fps. */
const MAX_STRIDE = 8;
/** Weight of the newest tick in the smoothed tick length: one hiccup (a GC pause) must not change the stride. */
const SMOOTHING = 0.05;

/**
 * Which slot to render next, with the clock now in slot `current` after a tick that took
 * `tickSlots` slot lengths (0: nothing rendered). The smoothed tick length picks the stride:
 * it doubles when ticks take over 90 % of it and halves when they would fit in 40 % of
 * half of it (hysteresis, so it does not flap). The next slot is the next multiple of the
 * stride after `current`, so missed slots are skipped and strides nest (multiples of 4 are
 * multiples of 2): nodes that fall behind by different amounts still share slots.
 */
export class SlotStride {
  private stride = 1;
  private load = 0;

  get current(): number {
    return this.stride;
  }

  next(current: number, tickSlots: number): number {
    if (tickSlots > 0) {
      // A single long tick (the first frame's warm-up, a GC pause) counts as at most two strides.
      this.load += (Math.min(tickSlots, 2 * this.stride) - this.load) * SMOOTHING;
      if (this.load > 0.9 * this.stride && this.stride < MAX_STRIDE) this.stride *= 2;
      else if (this.stride > 1 && this.load < 0.4 * (this.stride / 2)) this.stride /= 2;
    }
    return Math.ceil((current + 1) / this.stride) * this.stride;
  }
}


