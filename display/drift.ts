/**
 * Burn-in care for screens that show one picture for months: the whole picture (and the
 * wall label) wanders slowly on a closed, never-retracing path a few pixels wide, at a
 * fraction of a pixel per second, so no edge or bright area stays on the same pixels.
 * Nobody sees it move. Draw on demand stays cheap: a redraw is requested only when the
 * offset has moved by a noticeable fraction of a pixel since the last one.
 */
export interface DriftOptions {
  /** Largest offset from the centre, in CSS pixels. */
  amplitudePx: number;
  /** Seconds for one sweep along x; y sweeps at an incommensurate rate, so the path never repeats. */
  periodSeconds: number;
  /** Smallest move (device pixels) worth a redraw. */
  stepPx: number;
}

/** 4 px either way, a quarter of an hour per sweep: at most 0.03 px a second, far below what anyone notices. */
export const DEFAULT_DRIFT: Readonly<DriftOptions> = Object.freeze({ amplitudePx: 4, periodSeconds: 900, stepPx: 0.125 });

const GOLDEN = (1 + Math.sqrt(5)) / 2;

/**
 * The offset at `ms` (the page's clock, so it starts at 0 when the page loads), in CSS pixels:
 * a Lissajous figure with an irrational frequency ratio.
 */
export function driftAt(ms: number, opts: Readonly<DriftOptions> = DEFAULT_DRIFT): { x: number; y: number } {
  const phase = (2 * Math.PI * ms) / 1000 / opts.periodSeconds;
  return { x: opts.amplitudePx * Math.sin(phase), y: opts.amplitudePx * Math.sin(phase / GOLDEN) };
}

export interface Drift {
  /** The offset to draw with now; also remembers it as drawn. */
  take(now: number): { x: number; y: number };
  /** Starts checking a few times a second; `redraw` is asked for a frame when the drift has moved enough. */
  start(redraw: () => void, pixelRatio: () => number): void;
  stop(): void;
}

const CHECK_MS = 250;

export function burnInDrift(opts: Readonly<DriftOptions> = DEFAULT_DRIFT): Drift {
  let drawn = { x: 0, y: 0 };
  let timer: ReturnType<typeof setInterval> | undefined;
  return {
    take(now) {
      drawn = driftAt(now, opts);
      return drawn;
    },
    start(redraw, pixelRatio) {
      clearInterval(timer);
      timer = setInterval(() => {
        const next = driftAt(performance.now(), opts);
        const moved = Math.hypot(next.x - drawn.x, next.y - drawn.y) * pixelRatio();
        if (moved >= opts.stepPx) redraw();
      }, CHECK_MS);
    },
    stop() {
      clearInterval(timer);
      timer = undefined;
    },
  };
}
