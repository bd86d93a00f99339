/**
 * Tempo and beat phase from onset times (issue 20 item 3, state.modulation.tempoFrom
 * 'audio'): pure arithmetic, no I/O, fed by the audio analysis's onsets (server/audio/) or an
 * outside analyser's onset pulses over OSC, and read by the modulator.
 *
 * The method is phase coherence on a comb (the autocorrelation of the onsets, in another form):
 * for a candidate beat period P, each onset at time t is a unit vector at angle 2*pi*t/P;
 * onsets that sit on a grid of period P all point the same way and their mean has length 1,
 * onsets off the grid cancel. A candidate's fit is that length averaged over the first
 * HARMONICS harmonics (P, P/2, P/3, P/4): a sharper comb than one cosine, and one that prefers
 * the slowest grid holding the onsets, since a grid at a multiple of the tempo has its
 * harmonics further up, where timing jitter blurs them. The best fit's tempo is the estimate,
 * the first harmonic's angle the beat phase, and the fit above what random onsets reach by
 * chance the confidence. Missing onsets only shorten the sums; extra ones (off-beats, hits
 * between beats) add a little noise. Only the last WINDOW_S seconds count, so a new tempo takes
 * over within one window.
 *
 * Candidates run from MIN_BPM to twice MAX_BPM (onsets on every half beat, eighth-note
 * hi-hats, cancel on the beat's own grid and fit only the doubled one), and a tempo above
 * MAX_BPM is halved: the result lies in 60-180, and a slower or faster tempo reads as its double
 * or half. Among candidates nearly as good as the best the slowest wins (a grid of period P is
 * also a grid for P/2 and P/3: a kick every 0.5 s is 120 bpm, not 240 or 360).
 */

export interface BeatEstimate {
  /** Beats per minute, MIN_BPM..MAX_BPM. */
  bpm: number;
  /** 0..1: how much better than chance the recent onsets sit on the beat grid (1: every onset on a beat; near 0: random hits). */
  confidence: number;
  /** A time on a beat (the same unit as the onsets' times, ms): beats fall at anchor + k x 60000 / bpm. */
  anchor: number;
  /** Onsets in the window the estimate rests on. */
  onsets: number;
}

export interface BeatTrackerOptions {
  /** Seconds of onsets considered (default 8). */
  windowS?: number;
  minBpm?: number;
  maxBpm?: number;
  /** Fewest onsets in the window for an estimate (default 8). */
  minOnsets?: number;
}

export const MIN_BPM = 60;
export const MAX_BPM = 180;
const WINDOW_S = 8;
/** Onsets closer than this to the last one are one hit (a double trigger), ms. */
const MIN_GAP_MS = 60;
/** Coarse scan step, bpm: a fit's peak is about 60 / WINDOW_S / HARMONICS = 1.9 bpm wide, so this does not miss one. */
const COARSE_STEP = 0.5;
/** An estimate is recomputed at most this often, ms (a few ms each: dense onsets would otherwise cost a share of a core). */
const RECOMPUTE_MS = 250;
/** A slower candidate wins over the best when its coherence is at least this share of the best's. */
const SLOWER_SHARE = 0.9;
/** Harmonics in a grid's fit. */
const HARMONICS = 4;
/** The chance fit of N random onsets is about CHANCE / sqrt(N). */
const CHANCE = 1.9;

export class BeatTracker {
  private readonly times: number[] = [];
  private readonly windowMs: number;
  private readonly minBpm: number;
  private readonly maxBpm: number;
  private readonly minOnsets: number;
  private cached: { at: number; count: number; computed: number; estimate: BeatEstimate | null } | null = null;

  constructor(opts: BeatTrackerOptions = {}) {
    this.windowMs = (opts.windowS ?? WINDOW_S) * 1000;
    this.minBpm = opts.minBpm ?? MIN_BPM;
    this.maxBpm = opts.maxBpm ?? MAX_BPM;
    this.minOnsets = opts.minOnsets ?? 8;
  }

  /** An onset at `time` (ms, any clock that only moves forward). Out-of-order or duplicate times are dropped. */
  onset(time: number): void {
    if (!Number.isFinite(time)) return;
    const last = this.times.at(-1);
    if (last !== undefined && time - last < MIN_GAP_MS) return;
    this.times.push(time);
    this.forget(time);
  }

  /** Forgets every onset (the input changed or stopped). */
  reset(): void {
    this.times.length = 0;
    this.cached = null;
  }

  /** Onset times in the window, oldest first (tests). */
  get recent(): readonly number[] {
    return this.times;
  }

  /**
   * The tempo and phase of the onsets in the window ending at `now` (ms), or null with too few
   * onsets. Recomputed only when an onset came or went, and at most every RECOMPUTE_MS.
   */
  estimate(now: number): BeatEstimate | null {
    this.forget(now);
    if (this.times.length < this.minOnsets) return null;
    const cached = this.cached;
    if (cached && ((cached.count === this.times.length && cached.at === this.times[0]) || (now >= cached.computed && now - cached.computed < RECOMPUTE_MS))) return cached.estimate;
    const estimate = this.compute();
    this.cached = { at: this.times[0]!, count: this.times.length, computed: now, estimate };
    return estimate;
  }

  private forget(now: number): void {
    while (this.times.length && now - this.times[0]! > this.windowMs) this.times.shift();
  }

  private compute(): BeatEstimate | null {
    const times = this.times;
    if (times.length < this.minOnsets) return null;
    // Times relative to the newest onset keep the angles exact whatever the clock's origin.
    const ref = times.at(-1)!;
    const rel = times.map((t) => (t - ref) / 1000);
    const coherence = (bpm: number) => {
      const w = (2 * Math.PI * bpm) / 60;
      let re = 0;
      let im = 0;
      for (const t of rel) {
        re += Math.cos(w * t);
        im += Math.sin(w * t);
      }
      return { length: Math.hypot(re, im) / rel.length, angle: Math.atan2(im, re) };
    };
    // A grid's fit: the mean coherence of its first HARMONICS harmonics (a comb that is sharper
    // than one cosine, and that prefers the slowest grid holding the onsets: a grid at a multiple
    // of the tempo has its harmonics further up, where timing jitter blurs them).
    const sums = new Float64Array(2 * HARMONICS);
    const fit = (bpm: number) => {
      const w = (2 * Math.PI * bpm) / 60;
      sums.fill(0);
      for (const t of rel) {
        // e^(i w t), and its powers by multiplication (one cos and sin per onset).
        const c = Math.cos(w * t);
        const s = Math.sin(w * t);
        let re = c;
        let im = s;
        for (let h = 0; h < HARMONICS; h++) {
          sums[2 * h] = sums[2 * h]! + re;
          sums[2 * h + 1] = sums[2 * h + 1]! + im;
          const next = re * c - im * s;
          im = re * s + im * c;
          re = next;
        }
      }
      let total = 0;
      for (let h = 0; h < HARMONICS; h++) total += Math.hypot(sums[2 * h]!, sums[2 * h + 1]!);
      return total / (HARMONICS * rel.length);
    };
    // Scan up to twice the range (onsets on every half beat fit only there), keeping the local maxima.
    const top = 2 * this.maxBpm;
    const scan: { bpm: number; c: number }[] = [];
    for (let bpm = this.minBpm; bpm <= top + 1e-9; bpm += COARSE_STEP) scan.push({ bpm, c: fit(bpm) });
    const highest = Math.max(...scan.map((p) => p.c));
    const peaks = scan.filter((p, i) => p.c >= 0.7 * highest && (i === 0 || p.c >= scan[i - 1]!.c) && (i === scan.length - 1 || p.c >= scan[i + 1]!.c));
    // Refine each peak that could be the answer (golden-section search within one step either side).
    const refined = peaks.map((p) => this.refine(p.bpm, top, fit));
    const best = refined.reduce((a, b) => (b.c > a.c ? b : a));
    // The slowest candidate nearly as good as the best (a slower grid that is not a divisor of
    // the onsets' own misses some of its harmonics and falls well short).
    const pick = refined.filter((p) => p.c >= SLOWER_SHARE * best.c).reduce((a, b) => (b.bpm < a.bpm ? b : a));
    // Beats fall where the angle 2*pi*t/P equals the mean angle: t = angle / (2*pi) x P after the
    // newest onset. A tempo above the range is halved; its grid's phase is kept (then the beat
    // may land on the off-beat: nothing in onsets on every half beat tells the two apart).
    const { angle } = coherence(pick.bpm);
    const periodMs = 60_000 / pick.bpm;
    const anchor = ref + (angle / (2 * Math.PI)) * periodMs;
    let bpm = pick.bpm;
    while (bpm > this.maxBpm) bpm /= 2;
    // The best of ~1200 candidates fits random onsets by chance about this well (95th
    // percentile, measured: 0.77 for 6 onsets, 0.48 for 16, 0.32 for 40); the confidence is
    // the fit above chance, so few onsets fitting a grid by luck read as unsure.
    const chance = Math.min(0.95, CHANCE / Math.sqrt(times.length));
    return { bpm, confidence: Math.max(0, (pick.c - chance) / (1 - chance)), anchor, onsets: times.length };
  }

  private refine(centre: number, top: number, f: (bpm: number) => number): { bpm: number; c: number } {
    let a = Math.max(this.minBpm, centre - COARSE_STEP);
    let b = Math.min(top, centre + COARSE_STEP);
    const g = (Math.sqrt(5) - 1) / 2;
    let x1 = b - g * (b - a);
    let x2 = a + g * (b - a);
    let f1 = f(x1);
    let f2 = f(x2);
    for (let i = 0; i < 24 && b - a > 1e-3; i++) {
      if (f1 >= f2) {
        b = x2;
        x2 = x1;
        f2 = f1;
        x1 = b - g * (b - a);
        f1 = f(x1);
      } else {
        a = x1;
        x1 = x2;
        f1 = f2;
        x2 = a + g * (b - a);
        f2 = f(x2);
      }
    }
    const bpm = (a + b) / 2;
    return { bpm, c: f(bpm) };
  }
}

/** Where `now` sits between beats of `estimate`: 0 on a beat, rising to 1 just before the next. */
export function beatFraction(estimate: Pick<BeatEstimate, 'bpm' | 'anchor'>, now: number): number {
  const beats = ((now - estimate.anchor) * estimate.bpm) / 60_000;
  return beats - Math.floor(beats);
}
