/**
 * Many tablets, one face: turns with a visible queue (docs/tablet.md).
 *
 * - Nobody steering: the first tablet to touch a control takes the turn at once.
 * - Someone steering: another tablet's touch is refused and puts it in the queue (first
 *   come, first served); every tablet is told its place and about how long it will wait.
 * - A turn ends when its tablet has not touched anything for `idleSeconds`, when it has
 *   lasted `turnSeconds` while someone is waiting, or when the tablet leaves. The next in
 *   the queue then has the turn, and starts it with a full `turnSeconds` and its own idle
 *   grace, so a tablet that walked away passes its turn on quickly.
 * Nobody waits longer than the tablets ahead of them x `turnSeconds`, and nobody can keep
 * the face while others wait: no starvation. Without waiting tablets, a busy visitor keeps
 * the turn as long as they like.
 *
 * Pure bookkeeping with an injectable clock; the socket input feeds it, and `notify` is
 * called for each tablet whose status changed. In a cluster a TurnGate makes the turn the
 * whole wall's: one tablet on any node steers at a time (server/cluster/shared-turn.ts).
 */
import { refusal, type Ack, type Refusal, type TabletStatus } from '../common/protocol.js';
import type { Access } from './access.js';
import type { Attract } from './attract.js';
import type { Source, Step, Store } from './store.js';

export interface TurnOptions {
  /** Longest turn while others wait, seconds. */
  turnSeconds: number;
  /** A turn lapses after this long without a touch, seconds. */
  idleSeconds: number;
  /** Milliseconds; injectable for tests. */
  clock?: () => number;
}

export type TurnDecision = { ok: true } | Refusal;

type Notify = (id: string, status: Omit<TabletStatus, 'attract'>) => void;

/**
 * The other nodes of a cluster, as far as turns go. Each node keeps its own tablets'
 * queue; the gate tells it when a tablet elsewhere has the turn (so none here may take
 * it), how many wait elsewhere (so a long turn here ends for them), and hears which of
 * this node's tablets takes, keeps and gives up the turn.
 */
export interface TurnGate {
  /** A tablet on another node has the turn; `endsAt` is when it ends at the latest while others wait (ms, Date.now's clock). */
  heldElsewhere(): { endsAt: number } | null;
  /** Tablets waiting on the other nodes. */
  waitingElsewhere(): number;
  /** This node's tablet `id` took the turn, which ends at `endsAt` at the latest while others wait. */
  claim(id: string, endsAt: number): void;
  /** The holder touched a control: its turn is still alive. */
  keep(id: string): void;
  /** The holder's turn ended here. */
  release(id: string): void;
  /** Tablets waiting on this node (said at every change of holder or queue, and once a second). */
  waitingHere(count: number): void;
  /** `changed`: the turn elsewhere or the waiting there changed. `lost`: another node's tablet took the turn first. */
  listen(listener: { changed(): void; lost(id: string): void }): void;
}

export class Turns {
  private readonly tablets = new Set<string>();
  private holder: string | null = null;
  private turnStart = 0;
  private lastTouch = 0;
  private readonly queue: string[] = [];
  private readonly lastSent = new Map<string, string>();
  /**
   * Set when the holder or the queue changed. Only then can a tablet's status differ from
   * what it was last told (countdowns are refreshed by tick()); a touch by the holder, by
   * far the most frequent input, changes neither, so it costs nothing per other tablet.
   * Publishing on every input made 200 tablets x 30 inputs/s cost 1.2 M status checks a
   * second and stalled the frame loop (docs/reliability.md, bench/load.bench.ts).
   */
  private changed = false;
  /** Until then this node hands out no turn while tablets wait on other nodes (see expire()). */
  private yieldUntil = 0;
  private readonly clock: () => number;

  constructor(
    private readonly opts: TurnOptions,
    private readonly notify: Notify,
    private readonly gate?: TurnGate,
  ) {
    this.clock = opts.clock ?? Date.now;
    gate?.listen({ changed: () => this.tick(), lost: (id) => this.lost(id) });
  }

  /** A tablet connected; it watches until it touches something. */
  join(id: string): void {
    this.tablets.add(id);
    this.changed = true;
    this.publish();
  }

  /** A tablet left: it gives up its turn or its place. */
  leave(id: string): void {
    this.tablets.delete(id);
    this.lastSent.delete(id);
    const at = this.queue.indexOf(id);
    if (at >= 0) {
      this.queue.splice(at, 1);
      this.changed = true;
    }
    if (this.holder === id) this.pass();
    this.publish();
  }

  /**
   * A tablet wants to steer. Granted when it has the turn or nobody has it; otherwise it
   * joins the queue (if not already in it) and is told why it must wait.
   */
  request(id: string): TurnDecision {
    if (!this.tablets.has(id)) {
      this.tablets.add(id);
      this.changed = true;
    }
    this.expire();
    const now = this.clock();
    if (this.holder === null && this.mayGrant()) {
      const at = this.queue.indexOf(id);
      if (at >= 0) this.queue.splice(at, 1);
      this.grant(id, now);
    }
    if (this.holder === id) {
      this.lastTouch = now;
      this.gate?.keep(id);
      this.publish();
      return { ok: true };
    }
    if (!this.queue.includes(id)) {
      this.queue.push(id);
      this.changed = true;
    }
    this.publish();
    const position = this.queue.indexOf(id) + 1;
    return refusal('not-your-turn', `wait for your turn: another visitor is steering (you are number ${position} in the queue)`);
  }

  /** Ends lapsed turns and refreshes the countdowns; call about once a second. */
  tick(): void {
    this.expire();
    if (this.holder === null) this.passToNext();
    this.changed = true;
    this.publish();
  }

  status(id: string): Omit<TabletStatus, 'attract'> {
    const waiting = this.queue.length + (this.gate?.waitingElsewhere() ?? 0);
    const elsewhere = this.holder === null ? (this.gate?.heldElsewhere() ?? null) : null;
    if (this.holder === id) return { turn: 'yours', position: 0, queue: waiting, seconds: waiting ? Math.ceil(this.secondsLeft()) : null };
    const at = this.queue.indexOf(id);
    // (A queue with nobody holding the turn: only in a cluster, while the turn passes to another node.)
    if (this.holder === null && !elsewhere && at < 0) return { turn: 'free', position: 0, queue: waiting, seconds: null };
    if (at < 0) return { turn: 'watching', position: 0, queue: waiting, seconds: null };
    // Worst case: the turn now running lasts its full length, then everyone ahead does too.
    const left = elsewhere ? Math.max(0, elsewhere.endsAt - this.clock()) / 1000 : this.holder === null ? 0 : this.secondsLeft();
    const seconds = Math.ceil(left + at * this.opts.turnSeconds);
    return { turn: 'waiting', position: at + 1, queue: waiting, seconds };
  }

  ids(): string[] {
    return [...this.tablets];
  }

  get current(): string | null {
    return this.holder;
  }

  get waiting(): readonly string[] {
    return this.queue;
  }

  /** Until the running turn's hard end (it may end sooner, if its tablet stops touching). */
  private secondsLeft(): number {
    return Math.max(0, this.turnStart + this.opts.turnSeconds * 1000 - this.clock()) / 1000;
  }

  private grant(id: string, now: number): void {
    this.changed = true;
    this.holder = id;
    this.turnStart = now;
    this.lastTouch = now;
    this.gate?.claim(id, now + this.opts.turnSeconds * 1000);
  }

  /** Ends the running turn and hands it to the next waiting tablet, or leaves it free. */
  private pass(): void {
    this.changed = true;
    const ended = this.holder;
    this.holder = null;
    if (ended !== null) this.gate?.release(ended);
    this.passToNext();
  }

  /** A free turn goes to the first tablet waiting here, unless a tablet on another node has it. */
  private passToNext(): void {
    if (this.queue.length === 0 || !this.mayGrant()) return;
    this.grant(this.queue.shift()!, this.clock());
  }

  /** Another node's tablet claimed the turn first: ours goes back to the head of the queue. */
  private lost(id: string): void {
    if (this.holder !== id) return;
    this.holder = null;
    this.queue.unshift(id);
    this.changed = true;
    this.publish();
  }

  private expire(): void {
    // A loop: a tablet handed the turn may itself have lapsed already (never, with a live clock, but cheap to be sure).
    for (let guard = 0; this.holder !== null && guard <= this.tablets.size; guard++) {
      const now = this.clock();
      const elsewhere = this.gate?.waitingElsewhere() ?? 0;
      const idle = now - this.lastTouch >= this.opts.idleSeconds * 1000;
      const over = this.queue.length + elsewhere > 0 && now - this.turnStart >= this.opts.turnSeconds * 1000;
      if (!idle && !over) return;
      // A turn cut short for tablets on other nodes goes to them, not to the next one here: turns alternate between nodes.
      if (over && elsewhere > 0) this.yieldUntil = now + YIELD_MS;
      this.pass();
    }
  }

  /** Whether this node may hand out the turn now (always, on a single node). */
  private mayGrant(): boolean {
    if (!this.gate) return true;
    if (this.gate.heldElsewhere()) return false;
    return this.clock() >= this.yieldUntil || this.gate.waitingElsewhere() === 0;
  }

  private publish(): void {
    if (!this.changed) return;
    this.changed = false;
    this.gate?.waitingHere(this.queue.length);
    for (const id of this.tablets) {
      const status = this.status(id);
      const key = JSON.stringify(status);
      if (this.lastSent.get(id) === key) continue;
      this.lastSent.set(id, key);
      this.notify(id, status);
    }
  }
}

/**
 * Every visitor input passes through here on its way to the store: the VJ lock first (the
 * store refuses with its polite message), then the turn, then attract mode's hand-off
 * steps, all applied as one change. The VJ/administrator is never queued; their input
 * still counts as activity. Each tablet hears its status as a 'tablet' event.
 */
export class TabletFloor {
  private readonly turns: Turns;
  private readonly unsubscribe: () => void;
  private timer: NodeJS.Timeout | null = null;
  /**
   * Statuses waiting to be sent, the newest per tablet. When a crowd arrives at once, every
   * new place in the queue changes every tablet's status; sending each change at once made
   * 200 tablets cost 40,000 messages in the first second and stalled the display. Sent
   * together at most every SEND_EVERY_MS instead, a tablet hears only its latest status.
   */
  private readonly pending = new Map<string, TabletStatus>();
  private flushTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly store: Store,
    private readonly attract: Attract,
    opts: TurnOptions,
    private readonly send: (id: string, status: TabletStatus) => void,
    gate?: TurnGate,
  ) {
    this.turns = new Turns(opts, (id, status) => this.queueSend(id, { ...status, attract: attract.active }), gate);
    this.unsubscribe = attract.onChange(() => this.broadcast());
  }

  /** Starts the once-a-second turn clock. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.turns.tick(), 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.timer = null;
    this.flushTimer = null;
    this.pending.clear();
    this.unsubscribe();
  }

  join(id: string): void {
    this.turns.join(id);
  }

  leave(id: string): void {
    this.pending.delete(id);
    this.turns.leave(id);
  }

  status(id: string): TabletStatus {
    return { ...this.turns.status(id), attract: this.attract.active };
  }

  /** Applies a tablet's patches and commands under the policy; `source` is the store source of its access. */
  steer(id: string, access: Access, steps: readonly Step[], source: Source): Ack {
    if (access === 'visitor' && this.store.state.visitorLock) return this.store.applyMany(steps, source);
    if (access === 'visitor') {
      const turn = this.turns.request(id);
      if (!turn.ok) return turn;
    }
    return this.store.applyMany([...this.attract.wake(), ...steps], source);
  }

  private broadcast(): void {
    for (const id of this.turns.ids()) this.queueSend(id, this.status(id));
  }

  private queueSend(id: string, status: TabletStatus): void {
    this.pending.set(id, status);
    this.flushTimer ??= setTimeout(() => this.flush(), SEND_EVERY_MS);
  }

  private flush(): void {
    this.flushTimer = null;
    const batch = [...this.pending];
    this.pending.clear();
    for (const [id, status] of batch) this.send(id, status);
  }
}

/** How long a node leaves a turn it cut short for other nodes' tablets to them, before its own may take it again. */
const YIELD_MS = 3000;

/** Turn statuses reach tablets within this long of a change; a visitor cannot tell, a crowd's storm is tamed. */
const SEND_EVERY_MS = 50;
