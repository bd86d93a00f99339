/**
 * The turn policy for many tablets (server/arbitration.ts): first touch takes a free
 * turn, others queue in order, turns end on idleness or (while others wait) on time,
 * and every tablet is told its place. A fake clock drives time.
 */
import { describe, expect, it } from 'vitest';
import type { TabletStatus } from '../../common/protocol.js';
import { Turns, type TurnGate } from '../../server/arbitration.js';

const TURN_S = 30;
const IDLE_S = 8;

function setup(gate?: TurnGate) {
  let now = 1_000_000;
  const sent: { id: string; status: Omit<TabletStatus, 'attract'> }[] = [];
  const turns = new Turns({ turnSeconds: TURN_S, idleSeconds: IDLE_S, clock: () => now }, (id, status) => sent.push({ id, status }), gate);
  const advance = (seconds: number) => {
    now += seconds * 1000;
    turns.tick();
  };
  const last = (id: string) => [...sent].reverse().find((s) => s.id === id)?.status;
  return { turns, advance, sent, last, now: () => now };
}

/** The other nodes of a cluster, played by the test: what Redis would say, and what this node told it. */
class OtherNodes implements TurnGate {
  held: { endsAt: number } | null = null;
  waiting = 0;
  readonly calls: string[] = [];
  private listener: Parameters<TurnGate['listen']>[0] | null = null;
  heldElsewhere() {
    return this.held;
  }
  waitingElsewhere() {
    return this.waiting;
  }
  claim(id: string) {
    this.calls.push(`claim ${id}`);
  }
  keep() {}
  release(id: string) {
    this.calls.push(`release ${id}`);
  }
  waitingHere() {}
  listen(listener: Parameters<TurnGate['listen']>[0]) {
    this.listener = listener;
  }
  /** Another node's tablet takes the turn (or, with null, gives it up). */
  set(held: { endsAt: number } | null, waiting = this.waiting) {
    this.held = held;
    this.waiting = waiting;
    this.listener!.changed();
  }
  /** This node's claim of `id` lost the race to another node. */
  beat(id: string, endsAt: number) {
    this.held = { endsAt };
    this.listener!.lost(id);
  }
}

describe('turns', () => {
  it('gives a free installation to the first touch and tells everyone', () => {
    const { turns, last } = setup();
    turns.join('a');
    turns.join('b');
    expect(last('a')).toEqual({ turn: 'free', position: 0, queue: 0, seconds: null });
    expect(turns.request('a')).toEqual({ ok: true });
    expect(turns.current).toBe('a');
    expect(last('a')!.turn).toBe('yours');
    expect(last('b')!.turn).toBe('watching');
  });

  it('queues other tablets in order and refuses their input with their place', () => {
    const { turns, last } = setup();
    for (const id of ['a', 'b', 'c']) turns.join(id);
    turns.request('a');
    const b = turns.request('b');
    const c = turns.request('c');
    expect(b).toMatchObject({ ok: false, code: 'not-your-turn' });
    expect(!b.ok && b.error).toMatch(/number 1 in the queue/);
    expect(!c.ok && c.error).toMatch(/number 2 in the queue/);
    // Touching again keeps one's place instead of queueing twice.
    turns.request('b');
    expect(turns.waiting).toEqual(['b', 'c']);
    expect(last('b')).toMatchObject({ turn: 'waiting', position: 1, queue: 2, seconds: TURN_S });
    expect(last('c')).toMatchObject({ turn: 'waiting', position: 2, seconds: 2 * TURN_S });
    expect(last('a')).toMatchObject({ turn: 'yours', queue: 2, seconds: TURN_S });
  });

  it('passes the turn on when its tablet stops touching', () => {
    const { turns, advance, last } = setup();
    turns.join('a');
    turns.join('b');
    turns.request('a');
    turns.request('b');
    advance(IDLE_S - 1);
    expect(turns.current).toBe('a');
    advance(1);
    expect(turns.current).toBe('b');
    expect(last('b')!.turn).toBe('yours');
    expect(last('a')!.turn).toBe('watching');
    // The new holder has its own grace period, then the installation is free again.
    advance(IDLE_S);
    expect(turns.current).toBeNull();
    expect(last('b')!.turn).toBe('free');
  });

  it('ends a busy turn after turnSeconds while someone waits: nobody starves', () => {
    const { turns, advance } = setup();
    for (const id of ['a', 'b', 'c']) turns.join(id);
    turns.request('a');
    turns.request('b');
    turns.request('c');
    const order: string[] = [];
    // Every holder keeps touching every second; the queue still moves, in order.
    for (let s = 0; s < 3 * TURN_S + 3; s++) {
      const holder = turns.current!;
      if (order.at(-1) !== holder) order.push(holder);
      expect(turns.request(holder).ok).toBe(true);
      // The others keep touching too, which must not jump the queue.
      for (const id of ['a', 'b', 'c']) if (id !== holder) turns.request(id);
      advance(1);
    }
    expect(order.slice(0, 4)).toEqual(['a', 'b', 'c', 'a']);
  });

  it('keeps a busy turn as long as nobody waits', () => {
    const { turns, advance } = setup();
    turns.join('a');
    turns.request('a');
    for (let s = 0; s < 5 * TURN_S; s++) {
      advance(1);
      turns.request('a');
    }
    expect(turns.current).toBe('a');
  });

  it('forgets tablets that leave, holding or waiting', () => {
    const { turns, last } = setup();
    for (const id of ['a', 'b', 'c']) turns.join(id);
    turns.request('a');
    turns.request('b');
    turns.request('c');
    turns.leave('b');
    expect(turns.waiting).toEqual(['c']);
    expect(last('c')).toMatchObject({ turn: 'waiting', position: 1 });
    turns.leave('a');
    expect(turns.current).toBe('c');
    expect(last('c')!.turn).toBe('yours');
  });

  it('only reports changes', () => {
    const { turns, sent, advance } = setup();
    turns.join('a');
    turns.request('a');
    const count = sent.length;
    turns.request('a');
    advance(1);
    expect(sent.length).toBe(count);
  });
});

describe('turns across the nodes of a cluster', () => {
  it('while a tablet on another node steers, tablets here queue and hear when their turn comes', () => {
    const others = new OtherNodes();
    const { turns, last, now } = setup(others);
    turns.join('a');
    others.set({ endsAt: now() + 20_000 }, 0);
    expect(last('a')).toMatchObject({ turn: 'watching' });
    const refused = turns.request('a');
    expect(!refused.ok && refused.error).toMatch(/number 1 in the queue/);
    expect(last('a')).toMatchObject({ turn: 'waiting', position: 1, seconds: 20 });
    // The other node's visitor lets go: the first here takes over, and the other nodes hear of it.
    others.set(null);
    expect(turns.current).toBe('a');
    expect(last('a')!.turn).toBe('yours');
    expect(others.calls).toEqual(['claim a']);
  });

  it('a claim that lost the race puts its tablet back at the head of the queue', () => {
    const others = new OtherNodes();
    const { turns, last, now } = setup(others);
    for (const id of ['a', 'b']) turns.join(id);
    turns.request('a');
    turns.request('b');
    others.beat('a', now() + TURN_S * 1000);
    expect(turns.current).toBeNull();
    expect(turns.waiting).toEqual(['a', 'b']);
    expect(last('a')).toMatchObject({ turn: 'waiting', position: 1 });
    expect(turns.request('a').ok).toBe(false);
  });

  it('a long turn here ends for tablets waiting on another node, and they get it before the next one here', () => {
    const others = new OtherNodes();
    const { turns, advance, last } = setup(others);
    for (const id of ['a', 'b']) turns.join(id);
    turns.request('a');
    for (let s = 1; s < TURN_S; s++) {
      advance(1);
      turns.request('a');
    }
    expect(turns.current).toBe('a');
    // Someone waits on another node: the countdown shows, and the turn ends on time.
    others.set(null, 1);
    expect(last('a')).toMatchObject({ turn: 'yours', queue: 1, seconds: 1 });
    turns.request('b');
    advance(1);
    expect(others.calls).toEqual(['claim a', 'release a']);
    expect(turns.current).toBeNull();
    // Neither the old holder nor the next here may take it while the other node's tablet does.
    expect(turns.request('a').ok).toBe(false);
    expect(turns.current).toBeNull();
    others.set({ endsAt: Date.now() + TURN_S * 1000 }, 0);
    expect(last('b')).toMatchObject({ turn: 'waiting', position: 1 });
    others.set(null, 0);
    expect(turns.current).toBe('b');
  });

  it('if the other node never takes the yielded turn, this node hands it on after a moment', () => {
    const others = new OtherNodes();
    const { turns, advance } = setup(others);
    turns.join('a');
    turns.join('b');
    turns.request('a');
    others.set(null, 1);
    turns.request('b');
    for (let s = 0; s < TURN_S; s++) {
      advance(1);
      turns.request('a');
    }
    expect(turns.current).toBeNull();
    advance(3);
    expect(turns.current).toBe('b');
  });
});
