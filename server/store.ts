/**
 * The live state's only owner. Tablets, OSC and HTTP are thin adapters that call
 * apply()/command(); each patch is parsed with common/state.ts, so types sent over the
 * wire are never trusted. Invalid input changes nothing and says why.
 */
import { Emitter } from '../common/emitter.js';
import { CommandSchema, refusal, type Ack, type Refusal, type RefusalCode } from '../common/protocol.js';
import { DEFAULT_STATE, PatchSchema, StateSchema, describeError, mergeState, type LiveState, type StatePatch } from '../common/state.js';
import { randomSeed } from '../common/random.js';
import { deepFreeze } from '../common/freeze.js';
import { logger } from './log.js';
import type { StateSnapshot } from './stages/stage.js';

const log = logger('store');

export type Source = 'tablet' | 'osc' | 'http' | 'system';
/**
 * `origin` names the client behind a change when the input knows it (OSC: "osc:host:port"),
 * so an echo can skip the client that made the change.
 */
export type Listener = (state: Readonly<LiveState>, version: number, source: Source, origin?: string) => void;
/**
 * A change this node committed from its own inputs, as the validated patches it applied:
 * the cluster's replication (server/cluster/state-sync.ts) re-merges them onto the
 * cluster's newest state, so two nodes changing different keys never lose either change.
 */
export interface CommittedChange {
  patches: readonly StatePatch[];
  source: Source;
  origin?: string;
}
/** One part of an atomic change: a patch (see `PatchSchema`) or a command (see `CommandSchema`). */
export type Step = { patch: unknown } | { command: unknown };

export interface StoreOptions {
  initial?: LiveState;
  /** Checks what the schema cannot know (e.g. that a dream style exists); returns the reason to refuse, or null. */
  validate?: (state: Readonly<LiveState>) => string | null;
}

export class Store {
  private current: LiveState;
  private versionNo = 0;
  private frozen: StateSnapshot | null = null;
  private readonly listeners = new Emitter<Parameters<Listener>>((err) => log.error({ err: (err as Error).message }, 'state listener failed'));
  private readonly commitHooks = new Emitter<[CommittedChange]>((err) => log.error({ err: (err as Error).message }, 'commit hook failed'));

  private readonly validate: StoreOptions['validate'];

  constructor(opts: StoreOptions = {}) {
    this.current = opts.initial ?? (structuredClone(DEFAULT_STATE) as LiveState);
    this.validate = opts.validate;
  }

  get state(): Readonly<LiveState> {
    return this.current;
  }

  get version(): number {
    return this.versionNo;
  }

  /**
   * The state and its version as one frozen value, for a frame's job: every change replaces
   * the state object, so a snapshot never changes under a frame that holds it.
   */
  snapshot(): StateSnapshot {
    if (this.frozen?.version !== this.versionNo) this.frozen = Object.freeze({ state: deepFreeze(this.current), version: this.versionNo });
    return this.frozen;
  }

  apply(patch: unknown, source: Source, origin?: string): Ack {
    return this.applyMany([{ patch }], source, origin);
  }

  command(command: unknown, source: Source, origin?: string): Ack {
    return this.applyMany([{ command }], source, origin);
  }

  /**
   * Patches and commands applied in order as ONE change (one version, so one frame sees
   * all of it): an OSC bundle. If any step is invalid nothing changes.
   */
  applyMany(steps: readonly Step[], source: Source, origin?: string): Ack {
    if (steps.length === 0) return this.refuse(source, 'invalid', 'nothing to apply');
    const patches: StatePatch[] = [];
    for (const step of steps) {
      const patch = 'command' in step ? this.commandPatch(step.command, source) : this.checkPatch(step.patch, source);
      if ('ok' in patch) return this.refuse(source, patch.code, patch.error);
      patches.push(patch);
    }
    return this.commit(patches, source, origin);
  }

  subscribe(listener: Listener): () => void {
    return this.listeners.on(listener);
  }

  /** Called after each change committed by apply/command/applyMany (not by adopt), after the listeners. */
  onCommit(hook: (change: CommittedChange) => void): () => void {
    return this.commitHooks.on(hook);
  }

  /**
   * Parses and checks a whole state that did not come from this node's inputs (the cluster's
   * newest, server/cluster/state-sync.ts): the returned state, or the reason it is refused.
   */
  check(state: unknown): LiveState | string {
    const parsed = StateSchema.safeParse(state);
    if (!parsed.success) return describeError(parsed.error);
    return this.validate?.(parsed.data) ?? parsed.data;
  }

  /**
   * Replaces the state with one from elsewhere (the cluster), re-validated like any input;
   * listeners hear it as a change by `source` (the source of the change that made it), with
   * `origin` naming where it came from. An identical state changes nothing and notifies no one.
   * The commit hooks are not called: the change is not this node's to replicate.
   */
  adopt(state: unknown, source: Source, origin?: string): Ack {
    const next = this.check(state);
    if (typeof next === 'string') return this.refuse(source, 'invalid', next);
    if (JSON.stringify(next) === JSON.stringify(this.current)) return { ok: true, version: this.versionNo };
    this.current = next;
    this.versionNo += 1;
    this.listeners.emit(this.current, this.versionNo, source, origin);
    return { ok: true, version: this.versionNo };
  }

  private checkPatch(patch: unknown, source: Source): StatePatch | Refusal {
    const parsed = PatchSchema.safeParse(patch);
    if (!parsed.success) return refusal('invalid', describeError(parsed.error));
    const locked = this.lockedOut(source);
    if (locked) return locked;
    if (source === 'tablet' && parsed.data.visitorLock !== undefined) return refusal('needs-admin', 'visitorLock can only be set by the VJ or an administrator');
    return parsed.data;
  }

  private commandPatch(command: unknown, source: Source): StatePatch | Refusal {
    const parsed = CommandSchema.safeParse(command);
    if (!parsed.success) return refusal('invalid', describeError(parsed.error));
    const locked = this.lockedOut(source);
    if (locked) return locked;
    switch (parsed.data.type) {
      case 'newFace':
        return { mode: 'walk', walk: { seed: randomSeed() } };
    }
  }

  /** Tablets are refused while the VJ has locked visitor input; the message is shown on the tablet. */
  private lockedOut(source: Source): Refusal | null {
    return source === 'tablet' && this.current.visitorLock ? refusal('locked', 'locked: the performer has the controls right now') : null;
  }

  private commit(patches: readonly StatePatch[], source: Source, origin?: string): Ack {
    let next: LiveState = this.current;
    try {
      for (const patch of patches) next = mergeState(next, patch);
    } catch (err) {
      return this.refuse(source, 'invalid', (err as Error).message);
    }
    const invalid = this.validate?.(next);
    if (invalid) return this.refuse(source, 'invalid', invalid);
    this.current = next;
    this.versionNo += 1;
    this.listeners.emit(this.current, this.versionNo, source, origin);
    this.commitHooks.emit(origin === undefined ? { patches, source } : { patches, source, origin });
    return { ok: true, version: this.versionNo };
  }

  private refuse(source: Source, code: RefusalCode, error: string): Refusal {
    log.warn({ source, code, error }, 'input refused');
    return refusal(code, error);
  }
}
