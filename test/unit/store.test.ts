import { describe, expect, it } from 'vitest';
import { Store } from '../../server/store.js';
import { DEFAULT_STATE } from '../../common/state.js';
import { mixProblem } from '../../common/generator-inputs.js';

describe('store', () => {
  it('applies a valid patch, bumps the version and tells listeners', () => {
    const store = new Store();
    const seen: number[] = [];
    store.subscribe((_s, v) => seen.push(v));
    const ack = store.apply({ walk: { speed: 0.5 } }, 'tablet');
    expect(ack).toEqual({ ok: true, version: 1 });
    expect(store.state.walk.speed).toBe(0.5);
    expect(store.state.walk.seed).toBe(DEFAULT_STATE.walk.seed);
    expect(seen).toEqual([1]);
  });

  it.each([
    ['a wrong type', { walk: { speed: 'fast' } }],
    ['out of range', { walk: { speed: 99 } }],
    ['an unknown key', { wlak: { speed: 1 } }],
    ['an unknown nested key', { walk: { sped: 1 } }],
    ['a non-object', 'hello'],
    ['null', null],
    ['an array', [1, 2]],
    ['an unknown mode', { mode: 'chaos' }],
    ['a fractional seed', { seed: 1.5 }],
    ['an empty loop', { loop: { seeds: [] } }],
    ['a truncation above 1', { face: { truncation: 1.5 } }],
    ['a negative truncation', { face: { truncation: -0.1 } }],
    ['an unknown mix', { face: { mix: 'eyes' } }],
    ['a fractional mix seed', { face: { mixSeed: 2.5 } }],
    ['an unknown face key', { face: { psi: 0.5 } }],
  ])('refuses %s with a reason and changes nothing', (_name, patch) => {
    const store = new Store();
    const before = structuredClone(store.state);
    const ack = store.apply(patch, 'tablet');
    expect(ack).toMatchObject({ ok: false, code: 'invalid' });
    if (!ack.ok) expect(ack.error.length).toBeGreaterThan(3);
    expect(store.state).toEqual(before);
    expect(store.version).toBe(0);
  });

  it('newFace picks a fresh walk seed', () => {
    const store = new Store();
    const before = store.state.walk.seed;
    expect(store.command({ type: 'newFace' }, 'tablet').ok).toBe(true);
    expect(store.state.walk.seed).not.toBe(before);
    expect(store.command({ type: 'explode' }, 'tablet')).toMatchObject({ ok: false, code: 'invalid' });
    expect(store.applyMany([], 'tablet')).toMatchObject({ ok: false, code: 'invalid' });
  });
});

describe('face: truncation and style mixing', () => {
  it('defaults to a gallery truncation without mixing, and takes each key on its own', () => {
    const store = new Store();
    expect(store.state.face).toEqual({ truncation: 0.7, mix: 'off', mixSeed: expect.any(Number) });
    expect(store.apply({ face: { truncation: 1 } }, 'osc').ok).toBe(true);
    expect(store.apply({ face: { mixSeed: 77 } }, 'tablet').ok).toBe(true);
    expect(store.state.face).toMatchObject({ truncation: 1, mix: 'off', mixSeed: 77 });
  });

  it('refuses mixing on a generator without a W space, with the reason, and allows it with one', () => {
    const plain = new Store({ validate: (state) => mixProblem(state.face, { id: 'default-face' }) });
    const ack = plain.apply({ face: { mix: 'middle' } }, 'osc');
    expect(ack).toMatchObject({ ok: false, code: 'invalid', error: expect.stringMatching(/style mixing needs a generator with a W space/) });
    expect(plain.state.face.mix).toBe('off');
    expect(plain.version).toBe(0);
    expect(plain.apply({ face: { truncation: 0.4, mixSeed: 5 } }, 'http').ok, 'truncation and the seed alone are fine').toBe(true);
    const style = new Store({ validate: (state) => mixProblem(state.face, { id: 'style-face', style: {} }) });
    expect(style.apply({ face: { mix: 'fine', mixSeed: 9 } }, 'tablet').ok).toBe(true);
    expect(style.state.face).toMatchObject({ mix: 'fine', mixSeed: 9 });
  });
});

describe('visitor lock', () => {
  it('tablets cannot set it, and are refused while it is on', () => {
    const store = new Store();
    expect(store.apply({ visitorLock: true }, 'tablet')).toMatchObject({ ok: false, code: 'needs-admin' });
    expect(store.apply({ visitorLock: true }, 'osc').ok).toBe(true);
    const ack = store.apply({ walk: { speed: 1 } }, 'tablet');
    expect(ack).toMatchObject({ ok: false, code: 'locked', error: expect.stringMatching(/locked/) });
    expect(store.command({ type: 'newFace' }, 'tablet')).toMatchObject({ ok: false, code: 'locked' });
    expect(store.apply({ walk: { speed: 1 } }, 'osc').ok).toBe(true);
    expect(store.apply({ visitorLock: false }, 'http').ok).toBe(true);
    expect(store.apply({ walk: { speed: 0.5 } }, 'tablet').ok).toBe(true);
  });
});
