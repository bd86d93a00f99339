/**
 * The display's estimate of its node's cluster clock (server/wall/clock.ts), over
 * socket.io: NTP-style pings (common/clock.ts), the minimum round trip wins. A burst
 * on every (re)connect, since the node may be another machine now, then a few pings
 * every half minute to follow drift. Times are performance.now(): monotonic, and the
 * timeline requestAnimationFrame's timestamps use.
 */
import { measureOffset, OffsetEstimator, type ClockSample } from '../common/clock.js';

/** The part of the page's socket this needs (the Node bench clients pass theirs). */
export interface ClockSocket {
  connected: boolean;
  on(event: 'connect' | 'disconnect', listener: () => void): unknown;
  timeout(ms: number): { emitWithAck(event: 'clock'): Promise<number> };
}

const BURST = { count: 8, gapMs: 60 };
const REFRESH = { count: 3, gapMs: 60, everyMs: 30_000 };
const PING_TIMEOUT_MS = 2000;

export class ClusterClockSync {
  private readonly estimator = new OffsetEstimator();
  private best: ClockSample | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;
  private generation = 0;

  constructor(
    private readonly socket: ClockSocket,
    private readonly local: () => number = () => performance.now(),
  ) {
    socket.on('connect', () => void this.burst());
    socket.on('disconnect', () => {
      this.generation++;
      this.estimator.reset();
      this.best = null;
    });
    if (socket.connected) void this.burst();
    this.timer = setInterval(() => void this.measure(REFRESH), REFRESH.everyMs);
  }

  /** Cluster time at local time `localMs`, or null until the first estimate. */
  clusterAt(localMs: number): number | null {
    return this.best ? localMs + this.best.offset : null;
  }

  /** The sample in use: offset (cluster - local) and its round trip, for the debug hook and the bench. */
  get sample(): ClockSample | null {
    return this.best;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private burst(): Promise<void> {
    return this.measure(BURST);
  }

  private async measure(opts: { count: number; gapMs: number }): Promise<void> {
    if (!this.socket.connected) return;
    const generation = this.generation;
    const exchange = () => this.socket.timeout(PING_TIMEOUT_MS).emitWithAck('clock');
    // Samples from before a reconnect may be another node's: only keep an estimate of this connection.
    // Each answer refines the estimate at once, so a screen joins the wall's lockstep after one round trip.
    const adopt = () => {
      if (generation === this.generation) this.best = this.estimator.best(this.local());
    };
    await measureOffset(this.estimator, exchange, this.local, { ...opts, onSample: adopt });
  }
}
