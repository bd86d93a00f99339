/**
 * Which passes run: prints stack x4 (x2 when that is enough) to the size; live 'auto'
 * takes the largest stack that fits what the frame period leaves after the other stages,
 * no larger than the display needs, follows the machine's load, and does not flap.
 */
import { describe, expect, it } from 'vitest';
import { candidatePlans, choosePlan, PassCosts, planName, planScale, stackToSize, type Plan } from '../../server/upscale/plan.js';

describe('stackToSize (prints)', () => {
  it('uses x4 passes and an x2 when that is enough', () => {
    expect(stackToSize(64, 4096)).toEqual([4, 4, 4]);
    expect(stackToSize(128, 4096)).toEqual([4, 4, 2]);
    expect(stackToSize(64, 2048)).toEqual([4, 4, 2]);
    expect(stackToSize(64, 200)).toEqual([4]);
    expect(stackToSize(64, 128)).toEqual([2]);
    expect(stackToSize(64, 64)).toEqual([]);
    expect(stackToSize(64, 4096, [4])).toEqual([4, 4, 4]);
    expect(stackToSize(100, 4096, [4])).toEqual([4, 4, 4]);
    expect(() => stackToSize(0, 10)).toThrow();
  });

  it('always ends at or above the size, less than four times past it', () => {
    for (let from = 16; from <= 300; from += 7) {
      for (const to of [256, 1000, 4096]) {
        const s = from * planScale(stackToSize(from, to));
        expect(s).toBeGreaterThanOrEqual(to);
        if (from < to) expect(s).toBeLessThan(to * 4);
      }
    }
  });
});

describe('candidatePlans (live)', () => {
  it('offers stacks up to the first that reaches the display size', () => {
    expect(candidatePlans(64, 256).map(planName)).toEqual(['off', 'x2', 'x4']);
    expect(candidatePlans(128, 256).map(planName)).toEqual(['off', 'x2']);
    expect(candidatePlans(64, 1024).map(planName)).toEqual(['off', 'x2', 'x4', 'x4+x2', 'x4+x4']);
    expect(candidatePlans(256, 256).map(planName)).toEqual(['off']);
    expect(candidatePlans(64, 200).map(planName)).toEqual(['off', 'x2', 'x4']);
  });
});

/** Costs as if measured at start: x2 1 µs and x4 1.5 µs per input pixel. */
function costs(): PassCosts {
  const c = new PassCosts();
  c.calibrate(2, 64 * 64, 64 * 64 * 0.001);
  c.calibrate(4, 64 * 64, 64 * 64 * 0.0015);
  c.calibrateProbe(1);
  return c;
}

const base = { size: 64, target: 256, fps: 30, share: 0.9, otherMs: 5, current: null as Plan | null };

describe('choosePlan (auto)', () => {
  it('estimates stacks from per-pixel costs', () => {
    const c = costs();
    expect(c.estimate([2], 64)).toBeCloseTo(4.096, 6);
    expect(c.estimate([4], 64)).toBeCloseTo(6.144, 6);
    expect(c.estimate([4, 2], 64)).toBeCloseTo(6.144 + 65.536, 6);
    expect(new PassCosts().estimate([2], 64)).toBeNull();
  });

  it('takes the largest plan that fits the time left, and says why', () => {
    // 33.3 ms * 0.9 - 5 = 25 ms left: x4 (6.1 ms) fits.
    const c = choosePlan(costs(), base);
    expect(planName(c.plan)).toBe('x4');
    expect(c.reason).toMatch(/x4: 64 px -> 256 px in ~6\.1 ms; 25\.0 ms left of 33\.3 ms per frame at 30 fps/);
    expect(c.reason).toMatch(/covers the 256 px display/);
    // 10 ms left at 60 fps minus 5 ms other: only x2 (4.1 ms) fits with the upgrade margin.
    const tight = choosePlan(costs(), { ...base, fps: 100, share: 1, otherMs: 5 });
    expect(planName(tight.plan)).toBe('x2');
    expect(tight.reason).toMatch(/x4 would take ~6\.1 ms/);
    // Other stages eat the whole frame: off.
    const none = choosePlan(costs(), { ...base, otherMs: 40 });
    expect(planName(none.plan)).toBe('off');
    expect(none.reason).toMatch(/^off: 64 px -> 64 px; -10\.0 ms left/);
  });

  it('never upscales past the display size, however fast', () => {
    expect(planName(choosePlan(costs(), { ...base, size: 128, fps: 1 }).plan)).toBe('x2');
    expect(planName(choosePlan(costs(), { ...base, size: 256, fps: 1 }).plan)).toBe('off');
  });

  it('keeps the current plan while it fits but upgrades only with margin (no flapping)', () => {
    // 6.5 ms left: x4 (6.14 ms) fits, but not with the 15 % upgrade margin.
    const edge = { ...base, fps: 1000 / 11.5, share: 1, otherMs: 5 };
    expect(planName(choosePlan(costs(), { ...edge, current: [2] }).plan)).toBe('x2');
    expect(planName(choosePlan(costs(), { ...edge, current: [4] }).plan)).toBe('x4');
  });

  it('follows the load: slower passes and probes push estimates up, faster ones down', () => {
    const c = costs();
    for (let i = 0; i < 30; i++) c.record(2, 64 * 64, 64 * 64 * 0.001 * 3);
    expect(c.loadFactor).toBeCloseTo(3, 1);
    expect(c.estimate([4], 64)!).toBeCloseTo(6.144 * 3, 0);
    expect(planName(choosePlan(c, { ...base, fps: 40, share: 1 }).plan)).toBe('x2');
    for (let i = 0; i < 30; i++) c.recordProbe(1);
    expect(c.loadFactor).toBeCloseTo(1, 1);
    expect(planName(choosePlan(c, { ...base, fps: 40, share: 1 }).plan)).toBe('x4');
  });
});
