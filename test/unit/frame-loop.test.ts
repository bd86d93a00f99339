/**
 * The frame loop's pacing, on fake timers: frames start on a grid of deadlines, so timers
 * that fire late do not lower the frame rate, and an overrun is followed by a restart of
 * the grid rather than a burst of catch-up frames.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FrameLoop } from '../../server/pipeline/loop.js';
import { fixedSnapshot, type Stage } from '../../server/stages/stage.js';

/** A stage that takes `ms()` of (fake) time per frame and records when each frame started. */
function timedStage(ms: () => number, starts: number[]): Stage {
  return {
    name: 'work',
    async run() {
      starts.push(performance.now());
      await new Promise((r) => setTimeout(r, ms()));
    },
  };
}

let realSetTimeout: typeof setTimeout;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
  realSetTimeout = globalThis.setTimeout;
});

afterEach(() => {
  globalThis.setTimeout = realSetTimeout;
  vi.useRealTimers();
});

/** Every timer fires `lateMs` after it was due, as real timers on a busy machine do. */
function lateTimers(lateMs: number): void {
  const fake = globalThis.setTimeout;
  globalThis.setTimeout = ((fn: () => void, ms?: number) => fake(fn, (ms ?? 0) + lateMs)) as typeof setTimeout;
}

/** Stops the loop; the frame in progress may still wait on a fake timer, so time moves on until it ends. */
async function stop(loop: FrameLoop): Promise<void> {
  const stopped = loop.stop();
  await vi.runAllTimersAsync();
  await stopped;
}

describe('frame loop pacing', () => {
  it('holds the target rate although every timer fires 2 ms late', async () => {
    const starts: number[] = [];
    lateTimers(2);
    const loop = new FrameLoop([timedStage(() => 10, starts)], { fps: 30, snapshot: fixedSnapshot, active: () => true });
    loop.start();
    await vi.advanceTimersByTimeAsync(3000);
    await stop(loop);
    // 90 frames in 3 s at 30 fps; "period minus frame time" after late timers made about 84
    expect(starts.length).toBeGreaterThanOrEqual(89);
    expect(starts.length).toBeLessThanOrEqual(91);
  });

  it('follows an overrun at once, then restarts the grid instead of catching up in a burst', async () => {
    const starts: number[] = [];
    let frame = 0;
    const loop = new FrameLoop([timedStage(() => (++frame === 5 ? 200 : 5), starts)], { fps: 20, snapshot: fixedSnapshot, active: () => true });
    loop.start();
    await vi.advanceTimersByTimeAsync(1000);
    await stop(loop);
    const gaps = starts.slice(1).map((t, i) => t - starts[i]!);
    // frame 5 took 200 ms: frame 6 starts right after it, and later frames are about a period
    // apart again (a catch-up burst would show gaps of ~5 ms; fake timers round delays to whole ms)
    expect(gaps[4]).toBeGreaterThanOrEqual(200);
    expect(gaps[4]).toBeLessThan(210);
    expect(gaps.length).toBeGreaterThan(8);
    for (const g of gaps.slice(5)) expect(g).toBeGreaterThanOrEqual(48);
  });

  it('does not run while inactive', async () => {
    const starts: number[] = [];
    const loop = new FrameLoop([timedStage(() => 1, starts)], { fps: 30, snapshot: fixedSnapshot, active: () => false });
    loop.start();
    await vi.advanceTimersByTimeAsync(1000);
    await stop(loop);
    expect(starts.length).toBe(0);
  });
});
