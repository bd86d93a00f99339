/**
 * The live state's only owner. Tablets, OSC and HTTP are thin adapters that call
 * apply()/command(); each patch is parsed with common/state.ts, so types sent over the
 * wire are never trusted. Invalid input changes nothing and says why.
 */
import { CommandSchema, type Ack } from '../common/protocol.js';
import { DEFAULT_STATE, PatchSchema, describeError, mergeState, type LiveState, type StatePatch } from '../common/state.js';
import { randomSeed } from '../common/random.js';
import { logger } from './log.js';

const log = logger('store');

export type Source = 'tablet' | 'osc' | 'http' | 'system';
export type Listener = (state: Readonly<LiveState>, version: number, source: Source) => void;

export class Store {
  private current: LiveState;
  private versionNo = 0;
  private readonly listeners = new Set<Listener>();

  constructor(initial: LiveState = structuredClone(DEFAULT_STATE) as LiveState) {
    this.current = initial;
  }

  get state(): Readonly<LiveState> {
    return this.current;
  }

  get version(): number {
    return this.versionNo;
  }

  apply(patch: unknown, source: Source): Ack {
    const parsed = PatchSchema.safeParse(patch);
    if (!parsed.success) return this.refuse(source, describeError(parsed.error));
    const locked = this.lockedOut(source);
    if (locked) return this.refuse(source, locked);
    if (source === 'tablet' && parsed.data.visitorLock !== undefined) return this.refuse(source, 'visitorLock can only be set by the VJ or an administrator');
    return this.commit(parsed.data, source);
  }

  command(command: unknown, source: Source): Ack {
    const parsed = CommandSchema.safeParse(command);
    if (!parsed.success) return this.refuse(source, describeError(parsed.error));
    const locked = this.lockedOut(source);
    if (locked) return this.refuse(source, locked);
    switch (parsed.data.type) {
      case 'newFace':
        return this.commit({ mode: 'walk', walk: { seed: randomSeed() } }, source);
    }
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Tablets are refused while the VJ has locked visitor input; the message is shown on the tablet. */
  private lockedOut(source: Source): string | null {
    return source === 'tablet' && this.current.visitorLock ? 'locked: the performer has the controls right now' : null;
  }

  private commit(patch: StatePatch, source: Source): Ack {
    let next: LiveState;
    try {
      next = mergeState(this.current, patch);
    } catch (err) {
      return this.refuse(source, (err as Error).message);
    }
    this.current = next;
    this.versionNo += 1;
    for (const listener of this.listeners) {
      try {
        listener(this.current, this.versionNo, source);
      } catch (err) {
        log.error({ err: (err as Error).message }, 'state listener failed');
      }
    }
    return { ok: true, version: this.versionNo };
  }

  private refuse(source: Source, error: string): Ack {
    log.warn({ source, error }, 'invalid input refused');
    return { ok: false, error };
  }
}
