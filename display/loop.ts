/**
 * Draw on demand: nothing is rendered while nothing moves. Anything that changes the
 * picture calls request(); the loop then draws once per screen refresh for as long
 * as `step` reports that something is still moving, and stops by itself afterwards.
 */
export interface DrawLoop {
  request(): void;
  /** Milliseconds the last draw took on the CPU side (instrumentation). */
  readonly lastDrawMs: number;
  readonly draws: number;
}

/** `step(now)` advances animations to `now`, draws, and returns true if another frame is needed. */
export function createDrawLoop(step: (now: number) => boolean): DrawLoop {
  let scheduled = false;
  let lastDrawMs = 0;
  let draws = 0;

  const tick = (now: number) => {
    scheduled = false;
    const started = performance.now();
    const again = step(now);
    lastDrawMs = performance.now() - started;
    draws++;
    if (again) request();
  };

  function request(): void {
    if (scheduled) return;
    scheduled = true;
    requestAnimationFrame(tick);
  }

  return {
    request,
    get lastDrawMs() {
      return lastDrawMs;
    },
    get draws() {
      return draws;
    },
  };
}
