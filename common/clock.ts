/**
 * Clock offset estimation, NTP-style, shared by the server (node -> Redis), the display
 * page (display -> node, over socket.io) and the tests. One exchange: the local clock
 * reads `sentAt`, the remote clock answers `remote`, the local clock reads `receivedAt`.
 * If the answer was taken halfway through the round trip, remote = local + offset at the
 * midpoint; the error is at most half the round trip, so the sample with the smallest
 * round trip is the best (queues and scheduling only ever add delay).
 */

export interface ClockSample {
  /** remote - local, ms. */
  offset: number;
  /** Round trip, ms. */
  rtt: number;
  /** Local time the sample was taken (its midpoint), ms. */
  at: number;
}

export function clockSample(sentAt: number, remote: number, receivedAt: number): ClockSample {
  const rtt = Math.max(0, receivedAt - sentAt);
  const mid = sentAt + rtt / 2;
  return { offset: remote - mid, rtt, at: mid };
}

export interface EstimatorOptions {
  /** Samples older than this no longer count (clocks drift; a fresh estimate wins eventually). */
  maxAgeMs: number;
  /** At most this many samples are kept. */
  keep: number;
}

export const DEFAULT_ESTIMATOR: Readonly<EstimatorOptions> = Object.freeze({ maxAgeMs: 5 * 60_000, keep: 32 });

/** Keeps recent samples and reports the offset of the one with the smallest round trip. */
export class OffsetEstimator {
  private samples: ClockSample[] = [];

  constructor(private readonly options: Readonly<EstimatorOptions> = DEFAULT_ESTIMATOR) {}

  add(sample: ClockSample): void {
    if (!Number.isFinite(sample.offset) || !Number.isFinite(sample.rtt)) return;
    this.samples.push(sample);
    if (this.samples.length > this.options.keep) this.samples.shift();
  }

  /** Forgets everything (after a reconnect the other end may be a different machine). */
  reset(): void {
    this.samples = [];
  }

  /** The minimum-round-trip sample among those younger than maxAgeMs at `now`, or null. */
  best(now: number): ClockSample | null {
    let best: ClockSample | null = null;
    for (const s of this.samples) {
      if (now - s.at > this.options.maxAgeMs) continue;
      if (!best || s.rtt < best.rtt) best = s;
    }
    return best;
  }

  get count(): number {
    return this.samples.length;
  }
}

/**
 * Takes `count` samples with `exchange` (which returns the remote reading), `gapMs` apart,
 * into `estimator`; failed exchanges are skipped. `onSample` runs after each answer, so a
 * caller can use a first estimate while the burst goes on. Returns the best sample afterwards.
 */
export async function measureOffset(
  estimator: OffsetEstimator,
  exchange: () => Promise<number>,
  localNow: () => number,
  opts: { count: number; gapMs: number; onSample?: () => void },
): Promise<ClockSample | null> {
  for (let i = 0; i < opts.count; i++) {
    const sentAt = localNow();
    try {
      const remote = await exchange();
      estimator.add(clockSample(sentAt, remote, localNow()));
      opts.onSample?.();
    } catch {
      // a lost or timed-out exchange says nothing about the offset
    }
    if (i + 1 < opts.count && opts.gapMs > 0) await new Promise((r) => setTimeout(r, opts.gapMs));
  }
  return estimator.best(localNow());
}
