/**
 * The cluster clock: the one time every node of a wall agrees on, so frames are made
 * on the same slots and presented at the same moment. It is this machine's clock plus
 * an offset estimated against a shared reference (Redis' TIME when the cluster is on):
 * several exchanges, the one with the smallest round trip wins (common/clock.ts), again
 * every minute so drift is followed. Without a reference the offset is 0: one node, or
 * nodes whose clocks are already disciplined by NTP/PTP, and tests on one machine.
 */
import { measureOffset, OffsetEstimator, type ClockSample } from '../../common/clock.js';
import { logger } from '../log.js';

const log = logger('wall-clock');

/** Reads the reference clock, in ms since the epoch. */
export type TimeSource = () => Promise<number>;

/** While the reference has not answered yet, try again this often. */
const RETRY_MS = 2000;
/** One exchange with the reference that takes longer than this is abandoned (its sample would be useless anyway). */
const EXCHANGE_TIMEOUT_MS = 500;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    promise.then(
      (v) => (clearTimeout(timer), resolve(v)),
      (e: unknown) => (clearTimeout(timer), reject(e instanceof Error ? e : new Error(String(e)))),
    );
  });
}

export interface ClusterClockOptions {
  /** This machine's clock; injectable for tests. */
  local?: () => number;
  /** The shared reference; absent: the local clock is the cluster clock. */
  source?: TimeSource;
  /** Exchanges per estimate. */
  samples?: number;
  /** Milliseconds between estimates. */
  everyMs?: number;
}

export class ClusterClock {
  private readonly local: () => number;
  private readonly estimator = new OffsetEstimator();
  private offsetMs = 0;
  private lastSample: ClockSample | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private failuresLogged = 0;

  constructor(private readonly opts: ClusterClockOptions = {}) {
    // Against a reference, a sub-millisecond clock (the offset absorbs its drift from the wall
    // clock at every estimate); without one, the wall clock that NTP keeps the same on every machine.
    this.local = opts.local ?? (opts.source ? () => performance.timeOrigin + performance.now() : Date.now);
  }

  /** Cluster time now, ms since the epoch. */
  now(): number {
    return this.local() + this.offsetMs;
  }

  /** The offset in use and the round trip of the sample it came from (null: no reference). */
  get estimate(): { offsetMs: number; rttMs: number | null; reference: boolean } {
    return { offsetMs: this.offsetMs, rttMs: this.lastSample?.rtt ?? null, reference: this.opts.source !== undefined };
  }

  /**
   * Tries a first estimate (so frames start on the shared grid), then keeps it fresh; while
   * the reference has never answered (Redis still connecting) it tries every 2 s.
   */
  async start(): Promise<void> {
    if (!this.opts.source) return;
    await this.refresh();
    const next = () => {
      if (this.stopped) return;
      this.timer = setTimeout(() => void this.refresh().then(next), this.lastSample ? (this.opts.everyMs ?? 60_000) : RETRY_MS);
      this.timer.unref();
    };
    next();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** One estimate; a reference that does not answer keeps the last offset (and says so once). */
  async refresh(): Promise<void> {
    const source = this.opts.source;
    if (!source) return;
    // node-redis has no command timeout: a reference that hangs must not hold up the start or the refreshes.
    const exchange = () => withTimeout(source(), EXCHANGE_TIMEOUT_MS);
    const best = await measureOffset(this.estimator, exchange, this.local, { count: this.opts.samples ?? 8, gapMs: 20 });
    if (!best) {
      if (this.failuresLogged++ === 0) log.warn({ offsetMs: this.offsetMs }, 'the cluster time reference did not answer; keeping the last clock offset');
      return;
    }
    this.failuresLogged = 0;
    const changed = Math.abs(best.offset - this.offsetMs);
    this.offsetMs = best.offset;
    this.lastSample = best;
    if (changed > 5) log.info({ offsetMs: Math.round(best.offset * 100) / 100, rttMs: Math.round(best.rtt * 100) / 100 }, 'cluster clock offset estimated');
  }
}

/** Anything that can send a raw Redis command (node-redis' client does). */
export interface RedisCommander {
  sendCommand(args: string[]): Promise<unknown>;
}

/** Redis' TIME ([seconds, microseconds] as strings) as a time source. */
export function redisTimeSource(client: RedisCommander): TimeSource {
  return async () => {
    const reply = await client.sendCommand(['TIME']);
    if (!Array.isArray(reply) || reply.length !== 2) throw new Error(`unexpected TIME reply ${JSON.stringify(reply)}`);
    return Number(reply[0]) * 1000 + Number(reply[1]) / 1000;
  };
}
