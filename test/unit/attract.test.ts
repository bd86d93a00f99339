/**
 * Attract mode (server/attract.ts) with a real store and a fake clock: it starts after
 * the idle time, rests the sliders, waits while the VJ has locked the tablets, and hands
 * over to the first visitor in the same change as their touch.
 */
import { describe, expect, it } from 'vitest';
import { Attract } from '../../server/attract.js';
import { Store } from '../../server/store.js';

function setup(mode: 'walk' | 'loop' = 'walk') {
  let now = 0;
  const store = new Store();
  const attract = new Attract(store, { idleSeconds: 60, mode, walkSpeed: 0.05, clock: () => now });
  const changes: boolean[] = [];
  attract.onChange((active) => changes.push(active));
  const advance = (seconds: number) => {
    now += seconds * 1000;
    attract.check();
  };
  return { store, attract, advance, changes };
}

describe('attract mode', () => {
  it('wanders after the idle time, with the sliders at rest', () => {
    const { store, attract, advance, changes } = setup();
    expect(store.apply({ mode: 'plane', walk: { speed: 0.4 }, directions: { age: 0.8 } }, 'tablet')).toMatchObject({ ok: true });
    advance(59);
    expect(attract.active).toBe(false);
    advance(1);
    expect(attract.active).toBe(true);
    expect(changes).toEqual([true]);
    expect(store.state.mode).toBe('walk');
    expect(store.state.walk.speed).toBe(0.05);
    expect(store.state.directions).toEqual({ age: 0 });
  });

  it('any input restarts the idle clock', () => {
    const { store, attract, advance } = setup();
    advance(50);
    store.apply({ glide: 1 }, 'osc');
    advance(50);
    expect(attract.active).toBe(false);
    advance(10);
    expect(attract.active).toBe(true);
  });

  it('waits while the VJ has locked the tablets', () => {
    const { store, attract, advance } = setup();
    store.apply({ visitorLock: true }, 'osc');
    advance(600);
    expect(attract.active).toBe(false);
    store.apply({ visitorLock: false }, 'osc');
    advance(60);
    expect(attract.active).toBe(true);
  });

  it("hands over to the first touch in the same change, keeping the walk's face", () => {
    const { store, attract, advance, changes } = setup();
    store.apply({ walk: { speed: 0.3 } }, 'tablet');
    advance(61);
    expect(attract.active).toBe(true);
    const before = store.version;
    const ack = store.applyMany([...attract.wake(), { patch: { directions: { age: 0.5 } } }], 'tablet');
    expect(ack).toMatchObject({ ok: true, version: before + 1 });
    expect(attract.active).toBe(false);
    expect(changes).toEqual([true, false]);
    // Still the same walk (same seed, so the face on screen goes on from where it is), at the visitor's pace.
    expect(store.state.mode).toBe('walk');
    expect(store.state.walk.speed).toBe(0.3);
    expect(store.state.directions).toEqual({ age: 0.5 });
    expect(attract.wake()).toEqual([]);
  });

  it('a loop of curated seeds hands over to the walk', () => {
    const { store, attract, advance } = setup('loop');
    advance(60);
    expect(store.state.mode).toBe('loop');
    store.applyMany([...attract.wake(), { command: { type: 'newFace' } }], 'tablet');
    expect(store.state.mode).toBe('walk');
    expect(attract.active).toBe(false);
  });

  it('idles forever when switched off', () => {
    let now = 0;
    const store = new Store();
    const attract = new Attract(store, { idleSeconds: 0, mode: 'walk', walkSpeed: 0.05, clock: () => now });
    now = 1e9;
    attract.check();
    expect(attract.active).toBe(false);
  });
});
