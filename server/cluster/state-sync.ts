/**
 * Replicates the live state through Redis (docs/cluster.md). Redis holds the cluster's
 * state as one hash: the state JSON, a version, and an epoch (a random id chosen when the
 * state was seeded, so an emptied, restarted Redis is told apart from an old version).
 *
 * A change committed on this node (tablet, OSC, HTTP: the store acks at once) is queued
 * as its validated patches and written asynchronously with a compare-and-set Lua script:
 * it succeeds only if Redis still holds the version this node last saw; otherwise the
 * script returns the newer state, the queued patches are merged onto it, and the write is
 * tried again, so two nodes changing different keys never lose either change. The script
 * PUBLISHes every new state; every node adopts states newer than its own through the same
 * validated store, re-applying its own not-yet-written patches on top.
 *
 * Without Redis the node keeps running on its last state and queues its own changes;
 * when Redis returns (maybe empty, after a restart) the node reads it again: an empty
 * Redis is seeded from the node's state, a newer one is adopted, and the queue is written.
 */
import { randomBytes } from 'node:crypto';
import { mergeState, type LiveState, type StatePatch } from '../../common/state.js';
import { logger } from '../log.js';
import type { CommittedChange, Source, Store } from '../store.js';
import type { RedisLink } from './redis-connection.js';

const log = logger('cluster');

export const STATE_KEY = 'portraits:state';
export const STATE_CHANNEL = 'portraits:state';
/** Queued changes beyond this many are merged into one (a long Redis outage with busy tablets). */
const COMPACT_AFTER = 32;
/** After a failed write with Redis still up (e.g. a timeout), try again this soon. */
const RETRY_MS = 1000;

/**
 * KEYS[1] the state hash. ARGV: expected epoch ('' = Redis has no state), expected
 * version, epoch to use when seeding, state JSON, channel, change JSON (node, source).
 * Returns {1, epoch, version} after writing and publishing, or {0, epoch, version, state}
 * with what Redis holds instead.
 */
const COMPARE_AND_SET = `
local current = redis.call('HMGET', KEYS[1], 'epoch', 'version')
local epoch = current[1] or ''
local version = current[2] or '0'
if epoch ~= ARGV[1] or version ~= ARGV[2] then
  return {0, epoch, version, redis.call('HGET', KEYS[1], 'state') or ''}
end
if epoch == '' then epoch = ARGV[3] end
local nextVersion = tostring(tonumber(version) + 1)
redis.call('HSET', KEYS[1], 'epoch', epoch, 'version', nextVersion, 'state', ARGV[4])
redis.call('PUBLISH', ARGV[5], epoch .. ' ' .. nextVersion .. ' ' .. ARGV[6] .. '\\n' .. ARGV[4])
return {1, epoch, nextVersion}
`;

/** What a published state says about the change that made it. */
interface ChangeNote {
  node: string;
  source: Source;
}

const SOURCES: readonly Source[] = ['tablet', 'osc', 'http', 'system'];

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Two patches as one, with mergeState's semantics (sections merge key by key, the later value wins). */
export function combinePatches(a: StatePatch, b: StatePatch): StatePatch {
  const out: Record<string, unknown> = { ...a };
  for (const [key, value] of Object.entries(b)) {
    if (value === undefined) continue;
    const before = out[key];
    out[key] = isObject(before) && isObject(value) ? { ...before, ...value } : value;
  }
  return out as StatePatch;
}

export interface SyncStatus {
  epoch: string;
  version: number;
  /** Local changes not yet written to Redis. */
  queued: number;
}

export class StateSync {
  private epoch = '';
  private version = 0;
  /** The cluster's state at (epoch, version); null until known, or when Redis is empty and must be seeded. */
  private base: LiveState | null = null;
  private queue: CommittedChange[] = [];
  /** How many changes at the head of the queue a write in flight carries (they must not be compacted away). */
  private inFlight = 0;
  private flushing = false;
  private again = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly store: Store,
    private readonly link: RedisLink,
    private readonly nodeName: () => string,
  ) {
    this.unsubscribe = store.onCommit((change) => {
      this.queue.push(change);
      this.compact();
      this.flush();
    });
    link.onUp(() => this.resync());
  }

  /** Subscribes to the cluster's state channel (queued by the client until Redis is there). */
  start(): void {
    this.link.subscriber.subscribe(STATE_CHANNEL, (message) => this.onPublished(message)).catch((err: Error) => log.warn({ err: err.message }, 'could not subscribe to the state channel yet; node-redis retries after reconnecting'));
  }

  status(): SyncStatus {
    return { epoch: this.epoch, version: this.version, queued: this.queue.length };
  }

  /** Reads Redis afresh (after connecting or an outage), then writes what is queued. */
  private resync(): void {
    if (this.closed) return;
    this.link.commands.hmGet(STATE_KEY, ['epoch', 'version', 'state']).then(
      ([epoch, version, state]) => {
        if (!epoch || !version || !state) {
          // Empty (first start, or a restarted Redis without persistence): seed it from this node.
          if (this.epoch) log.info({ epoch: this.epoch, version: this.version }, 'Redis holds no state: seeding it from this node');
          this.epoch = '';
          this.version = 0;
          this.base = null;
        } else if (epoch !== this.epoch || Number(version) > this.version) {
          this.takeRemote(epoch, Number(version), state, { node: '', source: 'system' });
        }
        this.flush();
      },
      (err: Error) => log.warn({ err: err.message }, 'could not read the cluster state; retrying when Redis answers'),
    );
  }

  /** Writes the queue (or seeds an empty Redis) until nothing is left or Redis is gone; one at a time. */
  private flush(): void {
    if (this.flushing) {
      this.again = true;
      return;
    }
    if (this.closed || !this.link.up || (this.queue.length === 0 && this.base !== null)) return;
    this.flushing = true;
    this.again = false;
    this.writeOnce().then(
      (more) => {
        this.flushing = false;
        if (more || this.again) this.flush();
      },
      (err: Error) => {
        this.flushing = false;
        this.inFlight = 0;
        if (this.closed) return;
        log.warn({ err: err.message, queued: this.queue.length }, 'could not write the state to Redis; it stays queued');
        if (this.link.up && !this.retryTimer) {
          this.retryTimer = setTimeout(() => {
            this.retryTimer = null;
            this.flush();
          }, RETRY_MS);
        }
      },
    );
  }

  /** One compare-and-set; true when there may be more to write. */
  private async writeOnce(): Promise<boolean> {
    const seeding = this.base === null;
    this.inFlight = this.queue.length;
    const candidate = seeding ? this.store.state : this.rebase(this.base!, this.queue.slice(0, this.inFlight));
    const last = this.queue[this.inFlight - 1];
    const note: ChangeNote = { node: this.nodeName(), source: last?.source ?? 'system' };
    const reply = (await this.link.commands.eval(COMPARE_AND_SET, {
      keys: [STATE_KEY],
      arguments: [this.epoch, String(this.version), randomBytes(8).toString('hex'), JSON.stringify(candidate), STATE_CHANNEL, JSON.stringify(note)],
    })) as [number, string, string, string?];
    const [ok, epoch, version] = reply;
    const written = this.inFlight;
    this.inFlight = 0;
    if (ok === 1) {
      this.queue.splice(0, written);
      // A newer state may already have arrived on the channel while the script ran; keep that one.
      if (epoch !== this.epoch || Number(version) > this.version) {
        this.epoch = epoch;
        this.version = Number(version);
        this.base = candidate;
      }
      if (seeding) log.info({ epoch, version: this.version }, 'seeded the cluster state from this node');
      return this.queue.length > 0;
    }
    if (!epoch || !reply[3]) {
      // Redis lost its state since we last looked (restarted): seed it.
      this.epoch = '';
      this.version = 0;
      this.base = null;
    } else {
      // Another node got there first: merge onto its state and try again.
      this.takeRemote(epoch, Number(version), reply[3], { node: '', source: 'system' });
    }
    return true;
  }

  private onPublished(message: string): void {
    const newline = message.indexOf('\n');
    const header = message.slice(0, newline).split(' ');
    if (newline < 0 || header.length < 3) return log.warn('ignored a malformed message on the state channel');
    const [epoch, versionText] = header;
    const version = Number(versionText);
    if (epoch === this.epoch && version <= this.version) return; // ours, or already adopted
    let note: ChangeNote = { node: '', source: 'system' };
    try {
      const parsed = JSON.parse(header.slice(2).join(' ')) as Partial<ChangeNote>;
      note = { node: String(parsed.node ?? ''), source: SOURCES.includes(parsed.source as Source) ? (parsed.source as Source) : 'system' };
    } catch {
      // the state itself is still good; the note only names who changed it
    }
    this.takeRemote(epoch!, version, message.slice(newline + 1), note);
  }

  /** Adopts the cluster's state (plus this node's queued changes on top) through the store. */
  private takeRemote(epoch: string, version: number, json: string, note: ChangeNote): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch {
      return log.error({ epoch, version }, 'the cluster state in Redis is not JSON; ignored');
    }
    const remote = this.store.check(parsed);
    this.epoch = epoch;
    this.version = version;
    if (typeof remote === 'string') {
      // Nodes run different models or dream networks: this one cannot show that state.
      log.error({ error: remote, version }, 'the cluster state does not fit this node (all nodes must run the same model); keeping this node\'s state');
      this.base = this.store.state;
      return;
    }
    this.base = remote;
    const local = this.rebase(remote, this.queue);
    const ack = this.store.adopt(local, note.source, `cluster:${note.node || 'redis'}`);
    if (!ack.ok) log.error({ error: ack.error }, 'could not adopt the cluster state');
  }

  /** `base` with the changes applied in order; a change that no longer applies is dropped (and said so). */
  private rebase(base: LiveState, changes: readonly CommittedChange[]): LiveState {
    let state = base;
    for (const change of changes) {
      let next = state;
      try {
        for (const patch of change.patches) next = mergeState(next, patch);
      } catch (err) {
        log.warn({ err: (err as Error).message, source: change.source }, 'a queued change no longer applies to the cluster state; dropped');
        continue;
      }
      const checked = this.store.check(next);
      if (typeof checked === 'string') {
        log.warn({ error: checked, source: change.source }, 'a queued change no longer applies to the cluster state; dropped');
        continue;
      }
      state = checked;
    }
    return state;
  }

  /** Merges the changes behind any write in flight into one, so a long outage cannot grow the queue without bound. */
  private compact(): void {
    if (this.queue.length - this.inFlight <= COMPACT_AFTER) return;
    const tail = this.queue.splice(this.inFlight);
    const patches = tail.flatMap((c) => c.patches);
    const merged = patches.reduce<StatePatch>((acc, p) => combinePatches(acc, p), {});
    const last = tail[tail.length - 1]!;
    this.queue.push({ patches: [merged], source: last.source });
  }

  close(): void {
    this.closed = true;
    this.unsubscribe();
    if (this.retryTimer) clearTimeout(this.retryTimer);
  }
}
