import { describe, expect, it } from 'vitest';
import type { FrameMeta } from '../../common/frame.js';
import { WallSchema } from '../../common/wall.js';
import { Presenter } from '../../display/present.js';
import { SlotStride } from '../../server/pipeline/loop.js';
import { screenRefusal } from '../../server/wall/screens.js';
import { WalkAnchor } from '../../server/wall/walk-anchor.js';

const meta = (frame: number, presentAt?: number): FrameMeta => ({ frame, serverTime: 0, stateVersion: 0, mode: 'walk', seeds: [1, 2], t: 0, width: 8, height: 8, format: 'jpeg', timings: {}, ...(presentAt === undefined ? {} : { presentAt }) });

/** A presenter on a fake screen: refreshes happen when the test says, cluster time = local time + 1000. */
function fakeScreen() {
  const shown: { frame: number; at: number }[] = [];
  const released: number[] = [];
  let pending: ((now: number) => void) | null = null;
  const presenter = new Presenter<number>({
    clusterNow: (now) => now + 1000,
    requestFrame: (cb) => (pending = cb),
    show: (m, _item, now) => shown.push({ frame: m.frame, at: now }),
    release: (item) => released.push(item),
  });
  const refresh = (now: number) => {
    const cb = pending;
    pending = null;
    cb?.(now);
  };
  return { presenter, shown, released, refresh };
}

describe('presentation by timestamp', () => {
  it('holds a frame until the cluster clock reaches presentAt, then shows it at that refresh', () => {
    const s = fakeScreen();
    s.presenter.offer(meta(1, 1100), 1, 0);
    s.refresh(50); // cluster 1050
    s.refresh(99); // cluster 1099
    expect(s.shown).toEqual([]);
    s.refresh(116); // cluster 1116
    expect(s.shown).toEqual([{ frame: 1, at: 116 }]);
  });

  it('shows a late frame at the next refresh, and only the newest of several due ones', () => {
    const s = fakeScreen();
    s.presenter.offer(meta(1, 900), 1, 0);
    s.presenter.offer(meta(2, 950), 2, 0);
    s.presenter.offer(meta(3, 2000), 3, 0);
    s.refresh(16);
    expect(s.shown.map((x) => x.frame)).toEqual([2]);
    expect(s.released).toEqual([1]);
    expect(s.presenter.pending).toBe(1);
    // A frame due before the one on screen is history.
    s.presenter.offer(meta(4, 940), 4, 20);
    expect(s.released).toEqual([1, 4]);
  });

  it('shows frames without presentAt at once (a single screen), and clears on disconnect', () => {
    const s = fakeScreen();
    s.presenter.offer(meta(1), 1, 5);
    expect(s.shown).toEqual([{ frame: 1, at: 5 }]);
    s.presenter.offer(meta(2, 5000), 2, 6);
    s.presenter.clear();
    expect(s.released).toEqual([2]);
    expect(s.presenter.pending).toBe(0);
  });
});

describe('walk anchor', () => {
  it('without speed changes the phase is speed x cluster seconds, whenever a node started', () => {
    const early = new WalkAnchor();
    early.phaseAt(5, 0.5, 1_000_000);
    const late = new WalkAnchor();
    expect(late.phaseAt(5, 0.5, 2_000_000)).toBe(early.phaseAt(5, 0.5, 2_000_000));
    expect(late.phaseAt(5, 0.5, 2_000_000)).toBe(1000);
  });

  it('a speed change keeps the face where it was, and nodes that see it in the same slot agree', () => {
    const a = new WalkAnchor();
    const b = new WalkAnchor();
    for (const n of [a, b]) n.phaseAt(5, 0.5, 10_000);
    const before = a.phaseAt(5, 0.5, 20_000);
    expect(a.phaseAt(5, 2, 20_000)).toBeCloseTo(before, 9);
    b.phaseAt(5, 2, 20_000);
    expect(a.phaseAt(5, 2, 30_000)).toBe(b.phaseAt(5, 2, 30_000));
    expect(a.phaseAt(5, 2, 30_000) - before).toBeCloseTo(20, 9);
  });
});

describe('screens of a wall', () => {
  const wall = WallSchema.parse({ layout: 'tile', columns: 2, screens: [{ name: 'left', column: 0, row: 0 }, { name: 'right', column: 1, row: 0 }] });

  it('accepts a listed screen and refuses others with the list', () => {
    expect(screenRefusal(wall, 'left')).toEqual({ name: 'left' });
    expect(screenRefusal(wall, 'middle')).toEqual({ error: `unknown screen "middle"; this wall's screens: left, right` });
    expect(screenRefusal(wall, undefined)).toEqual({ error: `this wall (layout 'tile') needs each display opened as /?screen=NAME; this wall's screens: left, right` });
    expect('error' in screenRefusal(wall, { evil: true })).toBe(true);
  });

  it('a mirror takes displays without a place; a single screen ignores names', () => {
    expect(screenRefusal({ ...wall, layout: 'mirror' }, undefined)).toEqual({ name: undefined });
    expect(screenRefusal(WallSchema.parse({}), 'anything')).toEqual({ name: undefined });
  });
});

describe('wall slots when a node falls behind', () => {
  it('the next slot while frames fit in their slot; missed slots are skipped', () => {
    const stride = new SlotStride();
    expect(stride.next(100, 0.5)).toBe(101);
    expect(stride.next(103, 3.2)).toBe(104); // one long tick (a hiccup) changes nothing else
    expect(stride.current).toBe(1);
    const warming = new SlotStride();
    warming.next(10, 15); // the first frame's warm-up
    for (let i = 0; i < 20; i++) warming.next(11 + i, 0.5);
    expect(warming.current).toBe(1);
  });

  it('a node behind on average keeps to multiples of a power-of-two stride, so slow nodes share slots', () => {
    const a = new SlotStride();
    const b = new SlotStride();
    for (let i = 0; i < 40; i++) {
      a.next(1000, 1.3);
      b.next(1000, 2.5);
    }
    expect(a.current).toBe(2);
    expect(b.current).toBe(4);
    expect(a.next(1001, 1.3) % 2).toBe(0);
    expect(b.next(1001, 2.5) % 4).toBe(0);
  });

  it('comes back to every slot once ticks are short again, without flapping', () => {
    const s = new SlotStride();
    for (let i = 0; i < 40; i++) s.next(0, 1.3);
    expect(s.current).toBe(2);
    s.next(0, 0.5);
    expect(s.current).toBe(2);
    for (let i = 0; i < 80; i++) s.next(0, 0.3);
    expect(s.current).toBe(1);
  });
});
