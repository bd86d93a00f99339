/**
 * The modulation matrix (common/modulation.ts, server/modulation/modulator.ts) on a real store
 * with a driven clock: an LFO route makes its parameter swing at the LFO's rate between the
 * VJ's value and that plus the amount; a change by the VJ moves the base; removing the route
 * brings the value back; no route, however extreme, writes a value the store refuses; tap
 * tempo; and the store's and the visitors' refusals.
 */
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { MOD_CURVES, MOD_SOURCES, applyCurve, lfoValue, modulatedValue, type Route } from '../../common/modulation.js';
import { modulationProblem, modulationTargets, readTarget } from '../../common/modulation-targets.js';
import { visitorPatchRefusal } from '../../server/access.js';
import { Modulator } from '../../server/modulation/modulator.js';
import { Store } from '../../server/store.js';

function rig(routes: Route[], bpm = 120) {
  let now = 0;
  const store = new Store({ validate: modulationProblem });
  const modulator = new Modulator(store, { clock: () => now });
  const ack = store.apply({ modulation: { routes, bpm } }, 'http');
  expect(ack.ok, ack.ok ? '' : ack.error).toBe(true);
  const run = (seconds: number, step = 0.01, each?: () => void) => {
    const out: number[] = [];
    for (let t = 0; t < seconds; t += step) {
      now += step * 1000;
      modulator.tick();
      each?.();
      out.push(store.state.dream.strength);
    }
    return out;
  };
  return { store, modulator, run, advance: (ms: number) => (now += ms) };
}

const route = (over: Partial<Route> = {}): Route => ({ source: 'lfo1', target: 'dream.strength', amount: 0.5, attack: 0, release: 0, curve: 'linear', ...over });

/** Upward crossings of the middle of the swing, per second. */
function rate(values: number[], step: number): number {
  const mid = (Math.min(...values) + Math.max(...values)) / 2;
  let crossings = 0;
  for (let i = 1; i < values.length; i++) if (values[i - 1]! < mid && values[i]! >= mid) crossings++;
  return crossings / (values.length * step);
}

describe('modulation matrix', () => {
  it('an LFO of one beat at 120 bpm swings its parameter at 2 Hz from the set value by the amount', () => {
    const { store, run } = rig([route()]);
    store.apply({ dream: { strength: 0.2 }, modulation: { lfos: [{ shape: 'sine', beats: 1, phase: 0 }, ...store.state.modulation.lfos.slice(1)] } }, 'osc');
    run(0.5);
    const values = run(4);
    expect(Math.abs(rate(values, 0.01) - 2)).toBeLessThan(0.1);
    expect(Math.min(...values)).toBeCloseTo(0.2, 2);
    expect(Math.max(...values)).toBeCloseTo(0.7, 2);
  });

  it("the VJ's change moves the base, which presets save; removing the route returns to it", () => {
    const rigged = rig([route()]);
    const { store, run } = rigged;
    run(1);
    store.apply({ dream: { strength: 0.4 } }, 'osc');
    const values = run(2);
    expect(Math.min(...values)).toBeCloseTo(0.4, 2);
    expect(Math.max(...values)).toBeCloseTo(0.9, 2);
    // What a preset saves: the VJ's value, wherever the route has the parameter this instant.
    const { modulator } = rigged;
    expect(modulator.unmodulated(store.state).dream.strength).toBe(0.4);
    expect(modulator.unmodulated(store.state).walk).toEqual(store.state.walk);
    store.apply({ modulation: { routes: [] } }, 'osc');
    run(0.1);
    expect(store.state.dream.strength).toBeCloseTo(0.4, 6);
  });

  it('attack and release smooth a square source', () => {
    const { store, run } = rig([route({ attack: 0.2, release: 0.2 })], 60);
    store.apply({ dream: { strength: 0 }, modulation: { lfos: [{ shape: 'square', beats: 2, phase: 0 }, ...store.state.modulation.lfos.slice(1)] } }, 'osc');
    const values = run(2);
    // The square's edges are smoothed: no jump of the full 0.5 between two 10 ms ticks.
    const steps = values.slice(1).map((v, i) => Math.abs(v - values[i]!));
    expect(Math.max(...steps)).toBeLessThan(0.05);
    expect(Math.max(...values)).toBeGreaterThan(0.45);
  });

  it('no route, amount or source value writes a value the store refuses (fuzz)', () => {
    const targets = modulationTargets().map((t) => t.path);
    const routeArb = fc.record({
      source: fc.constantFrom(...MOD_SOURCES),
      target: fc.constantFrom(...targets),
      amount: fc.double({ min: -1, max: 1, noNaN: true }),
      attack: fc.double({ min: 0, max: 10, noNaN: true }),
      release: fc.double({ min: 0, max: 10, noNaN: true }),
      curve: fc.constantFrom(...MOD_CURVES),
    });
    fc.assert(
      fc.property(fc.array(routeArb, { minLength: 1, maxLength: 16 }), fc.array(fc.double({ noNaN: false }), { minLength: 1, maxLength: 20 }), (routes, fed) => {
        const { store, modulator, run } = rig(routes as Route[]);
        const apply = vi.spyOn(store, 'apply');
        let k = 0;
        run(0.3, 0.03, () => {
          modulator.feed(MOD_SOURCES[k % MOD_SOURCES.length]!, fed[k % fed.length]! * 3);
          k++;
        });
        for (const result of apply.mock.results) expect((result.value as { ok: boolean }).ok).toBe(true);
        for (const t of modulationTargets()) {
          const v = readTarget(store.state, t.path);
          expect(v).toBeGreaterThanOrEqual(t.min);
          expect(v).toBeLessThanOrEqual(t.max);
        }
        modulator.close();
      }),
      { numRuns: 60 },
    );
  });

  it('keeps values in range for any base, offset and curve (the arithmetic)', () => {
    fc.assert(
      fc.property(fc.double(), fc.double(), fc.double({ min: -100, max: 100, noNaN: true }), fc.double({ min: 0.001, max: 100, noNaN: true }), (base, offset, lo, span) => {
        const v = modulatedValue(base, { min: lo, max: lo + span }, offset);
        return v >= lo && v <= lo + span;
      }),
    );
    for (const c of MOD_CURVES) for (const x of [-1, 0, 0.3, 1, 2, NaN]) expect(Number.isNaN(applyCurve(c, x)) ? 0 : applyCurve(c, x)).toBeGreaterThanOrEqual(0);
    for (const shape of ['sine', 'triangle', 'saw', 'square', 'random'] as const) {
      for (let b = 0; b < 8; b += 0.37) {
        const v = lfoValue({ shape, beats: 1.5, phase: 0.25 }, b, 3);
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThanOrEqual(1);
      }
    }
  });

  it('tap tempo: taps half a second apart make 120 bpm; a long pause starts over', () => {
    const { store, modulator, advance } = rig([]);
    expect(modulator.tap()).toBeNull();
    for (let i = 0; i < 3; i++) {
      advance(500);
      modulator.tap();
    }
    expect(store.state.modulation.bpm).toBeCloseTo(120, 6);
    advance(5000);
    expect(modulator.tap()).toBeNull();
    advance(400);
    expect(modulator.tap()).toBeCloseTo(150, 6);
  });

  it('the store refuses a target that is not a modulatable parameter, naming those that are; visitors may not touch the matrix', () => {
    const store = new Store({ validate: modulationProblem });
    const ack = store.apply({ modulation: { routes: [route({ target: 'seed' })] } }, 'http');
    expect(ack).toMatchObject({ ok: false, error: expect.stringContaining("'seed' is not a modulatable parameter; they are: walk.speed") });
    expect(store.apply({ modulation: { routes: [route({ amount: 7 })] } }, 'http').ok).toBe(false);
    expect(visitorPatchRefusal({ modulation: { routes: [] } })).toMatchObject({ code: 'needs-admin' });
    expect(modulationTargets().map((t) => t.path)).toEqual(expect.arrayContaining(['dream.strength', 'face.truncation', 'walk.speed', 'display.blackout']));
    expect(modulationTargets().some((t) => t.path.startsWith('modulation'))).toBe(false);
  });
});
