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
 */
import type { FrameMeta } from '../../common/frame.js';
import { logger } from '../log.js';
import type { FrameJob, Stage } from '../stages/stage.js';
import { runChain, type ChainResult } from './chain.js';

const log = logger('loop');
const IDLE_POLL_MS = 100;

export interface LoopOptions {
  fps: number;
  /** Frames are made only while this is true (e.g. a display is connected). */
  active: () => boolean;
  onFrame?: (job: FrameJob, result: ChainResult) => void;
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
  private readonly stageAvg = new Map<string, number>();

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

  /** Smoothed milliseconds per stage over recent frames. */
  stageMs(): Record<string, number> {
    return Object.fromEntries([...this.stageAvg].map(([k, v]) => [k, Math.round(v * 100) / 100]));
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
    if (!this.opts.active()) {
      this.dueAt = 0;
      this.schedule(IDLE_POLL_MS);
      return;
    }
    const started = performance.now();
    if (this.dueAt === 0) this.dueAt = started;
    const job: FrameJob = { meta: newMeta(++this.frameNo) };
    const result = await runChain(this.stages, job);
    if (result.ok) {
      const now = performance.now();
      if (this.lastFrameAt) {
        const inst = 1000 / Math.max(1, now - this.lastFrameAt);
        this.fpsAvg = this.fpsAvg ? this.fpsAvg * 0.9 + inst * 0.1 : inst;
      }
      this.lastFrameAt = now;
      for (const [stage, ms] of Object.entries(job.meta.timings)) {
        const prev = this.stageAvg.get(stage);
        this.stageAvg.set(stage, prev === undefined ? ms : prev * 0.9 + ms * 0.1);
      }
    } else if (this.errorsLogged++ < 20 || this.errorsLogged % 1000 === 0) {
      log.error({ error: result.error, frame: this.frameNo }, 'frame failed');
    }
    this.opts.onFrame?.(job, result);
    const period = 1000 / this.opts.fps;
    const now = performance.now();
    this.dueAt += period;
    if (this.dueAt < now - period) this.dueAt = now;
    this.schedule(Math.max(0, this.dueAt - now));
  }
}

function newMeta(frame: number): FrameMeta {
  return { frame, serverTime: Date.now(), stateVersion: 0, mode: '', seeds: [0, 0], t: 0, width: 0, height: 0, format: 'jpeg', timings: {} };
}
