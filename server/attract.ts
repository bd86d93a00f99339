/**
 * Attract mode: when nobody has touched anything for `idleSeconds`, the installation
 * wanders by itself, a slow walk (or the VJ's keyframe loop of curated seeds), with the
 * sliders back at rest. The first visitor touch ends it, in the same state change as the
 * touch itself (see `wake`), and the latent stage's glide starts from the face on screen,
 * so the hand-off never jumps.
 *
 * Any change that is not the system's own (a tablet, the VJ over OSC or HTTP) counts as
 * activity and ends the wander; while the VJ has locked the tablets, the room is theirs
 * and attract waits.
 */
import type { LiveState, StatePatch } from '../common/state.js';
import { Emitter } from '../common/emitter.js';
import { logger } from './log.js';
import type { Step, Store } from './store.js';

const log = logger('attract');
const CHECK_MS = 1000;

export interface AttractOptions {
  /** Seconds without input before wandering; 0 turns attract mode off. */
  idleSeconds: number;
  /** 'walk': a slow random walk from the face on screen; 'loop': the keyframe loop (state.loop). */
  mode: 'walk' | 'loop';
  /** Faces per second of the attract walk. */
  walkSpeed: number;
  /** Milliseconds; injectable for tests. */
  clock?: () => number;
}

export class Attract {
  private lastActivity: number;
  private activeSince: number | null = null;
  /** What the wander replaced, restored when a visitor takes over. */
  private before: Pick<LiveState, 'mode'> & { speed: number } = { mode: 'walk', speed: 0 };
  private timer: NodeJS.Timeout | null = null;
  private readonly unsubscribe: () => void;
  private readonly clock: () => number;
  /** A listener's throw reaches the caller (check() or the store change that ended the wander). */
  private readonly listeners = new Emitter<[active: boolean]>();

  constructor(
    private readonly store: Store,
    private readonly opts: AttractOptions,
  ) {
    this.clock = opts.clock ?? Date.now;
    this.lastActivity = this.clock();
    this.unsubscribe = store.subscribe((_state, _version, source) => {
      if (source === 'system') return;
      this.lastActivity = this.clock();
      if (this.activeSince !== null) this.end(source === 'tablet' ? 'a visitor took over' : `the ${source === 'osc' ? 'VJ' : 'administrator'} took over`);
    });
  }

  get active(): boolean {
    return this.activeSince !== null;
  }

  /** Called with true when the wander starts and false when it ends. */
  onChange(listener: (active: boolean) => void): () => void {
    return this.listeners.on(listener);
  }

  /** Checks once a second; tests call check() with their own clock instead. */
  start(): void {
    if (this.opts.idleSeconds <= 0 || this.timer) return;
    this.timer = setInterval(() => this.check(), CHECK_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.unsubscribe();
  }

  /** Starts the wander once the room has been idle long enough. */
  check(): void {
    if (this.opts.idleSeconds <= 0 || this.activeSince !== null) return;
    const state = this.store.state;
    if (state.visitorLock) {
      this.lastActivity = this.clock();
      return;
    }
    if (this.clock() - this.lastActivity < this.opts.idleSeconds * 1000) return;
    this.before = { mode: state.mode, speed: state.walk.speed };
    const ack = this.store.apply(this.wanderPatch(state), 'system');
    if (!ack.ok) {
      log.error({ error: ack.error }, 'attract mode could not start');
      this.lastActivity = this.clock();
      return;
    }
    this.activeSince = this.clock();
    log.info({ mode: this.opts.mode, idleSeconds: this.opts.idleSeconds }, 'nobody around: the installation wanders by itself');
    this.listeners.emit(true);
  }

  /**
   * The steps to put before a visitor's first input while wandering, so the wander ends in
   * the same change as the touch: the walk goes back to the visitor's pace from the face on
   * screen (a loop hands over to the walk). The visitor's own steps come after and win.
   * Nothing while not wandering, or when the VJ has changed the mode meanwhile.
   */
  wake(): Step[] {
    if (this.activeSince === null) return [];
    const state = this.store.state;
    if (state.mode !== this.opts.mode) return [];
    const patch: StatePatch = this.opts.mode === 'walk' ? { walk: { speed: this.before.speed } } : { mode: 'walk' };
    return [{ patch }];
  }

  private wanderPatch(state: Readonly<LiveState>): StatePatch {
    const rest = Object.fromEntries(Object.keys(state.directions).map((name) => [name, 0]));
    return this.opts.mode === 'walk'
      ? { mode: 'walk', walk: { speed: this.opts.walkSpeed }, directions: rest }
      : { mode: 'loop', directions: rest };
  }

  private end(why: string): void {
    const seconds = Math.round((this.clock() - (this.activeSince ?? this.clock())) / 1000);
    this.activeSince = null;
    log.info({ seconds }, `attract mode ended: ${why}`);
    this.listeners.emit(false);
  }
}
