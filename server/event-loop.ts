/**
 * How late the main thread's event loop runs: every socket.io ack, OSC reply and HTTP answer
 * waits this long behind whatever else the thread is doing. Measured with
 * perf_hooks.monitorEventLoopDelay over rolling windows, so /health shows the recent past
 * (a start-up stall an hour ago does not hide today's figure) and a bench can read it while
 * frames are made.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

export interface LoopDelay {
  /** Percentiles and the worst delay over the window, in ms. */
  p50: number;
  p99: number;
  max: number;
  /** Seconds the figures cover. */
  seconds: number;
}

const NS_PER_MS = 1e6;

export class EventLoopDelay {
  private readonly histogram: IntervalHistogram;
  private windowStart = performance.now();
  private last: LoopDelay | null = null;
  private readonly timer: NodeJS.Timeout;

  /** `windowMs`: how long each window lasts; `resolutionMs`: the sampling timer (smaller sees shorter stalls). */
  constructor(
    private readonly windowMs = 10_000,
    private readonly resolutionMs = 10,
  ) {
    this.histogram = monitorEventLoopDelay({ resolution: resolutionMs });
    this.histogram.enable();
    this.timer = setInterval(() => this.roll(), windowMs);
    this.timer.unref();
  }

  /** The last complete window (the current one until the first has closed). */
  report(): LoopDelay {
    return this.last ?? this.current();
  }

  stop(): void {
    clearInterval(this.timer);
    this.histogram.disable();
  }

  private roll(): void {
    this.last = this.current();
    this.histogram.reset();
    this.windowStart = performance.now();
  }

  private current(): LoopDelay {
    const h = this.histogram;
    // The histogram records the time between its timer's ticks, the resolution included: the delay is what exceeds it.
    const ms = (ns: number) => (Number.isFinite(ns) && h.count > 0 ? Math.max(0, Math.round((ns / NS_PER_MS - this.resolutionMs) * 10) / 10) : 0);
    return { p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max), seconds: Math.round((performance.now() - this.windowStart) / 100) / 10 };
  }
}
