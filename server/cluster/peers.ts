/**
 * Which nodes are alive (docs/cluster.md): every node writes {name, url} to Redis under a
 * key that expires unless renewed (a heartbeat), and reads everyone else's. Displays are
 * told the list so they can fail over to another node when theirs dies; a dead node drops
 * out when its key expires. While Redis is away the last list is kept: failover must keep
 * working when Redis and a node fail together.
 */
import type { PeerInfo } from '../../common/protocol.js';
import { Emitter } from '../../common/emitter.js';
import { logger } from '../log.js';
import type { RedisLink } from './redis-connection.js';

const log = logger('cluster');

const PEER_KEY = (name: string) => `portraits:peer:${name}`;
const PEER_SET = 'portraits:peers';
/** A node is renewed this often and forgotten this long after its last renewal. */
export const PEER_BEAT_MS = 2000;
export const PEER_TTL_MS = 6000;

function isPeer(v: unknown): v is PeerInfo {
  return typeof v === 'object' && v !== null && typeof (v as PeerInfo).name === 'string' && typeof (v as PeerInfo).url === 'string';
}

export class Peers {
  private list: PeerInfo[];
  /** Every origin a peer has had since start: a display loaded from a node that has since died must still be let in (CORS). */
  private readonly seenOrigins = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  /** A listener's throw ends the heartbeat's update (logged there, the list already taken). */
  private readonly listeners = new Emitter<[peers: PeerInfo[]]>();
  private beating = false;
  /** Until then, nodes missing from Redis are kept: after Redis restarts empty, the others re-register within a beat. */
  private graceUntil = 0;

  constructor(
    private readonly link: RedisLink,
    private readonly self: PeerInfo,
  ) {
    this.list = [self];
    this.seenOrigins.add(new URL(self.url).origin);
    link.onUp(() => {
      this.graceUntil = Date.now() + 2 * PEER_BEAT_MS;
      this.beat();
    });
  }

  /** The live nodes, this one first. */
  get peers(): PeerInfo[] {
    return this.list;
  }

  origins(): string[] {
    return [...this.seenOrigins];
  }

  onChange(listener: (peers: PeerInfo[]) => void): () => void {
    return this.listeners.on(listener);
  }

  start(): void {
    this.timer = setInterval(() => this.beat(), PEER_BEAT_MS);
    this.timer.unref();
    this.beat();
  }

  private beat(): void {
    if (!this.link.up || this.beating) return;
    this.beating = true;
    this.renew()
      .catch((err: Error) => log.debug({ err: err.message }, 'peer heartbeat failed; keeping the last peer list'))
      .finally(() => (this.beating = false));
  }

  private async renew(): Promise<void> {
    const redis = this.link.commands;
    const [, , names] = await redis.multi().set(PEER_KEY(this.self.name), JSON.stringify(this.self), { PX: PEER_TTL_MS }).sAdd(PEER_SET, this.self.name).sMembers(PEER_SET).exec();
    const others = (names as unknown as string[]).filter((n) => n !== this.self.name).sort();
    const values = others.length ? await redis.mGet(others.map(PEER_KEY)) : [];
    const alive: PeerInfo[] = [this.self];
    const gone: string[] = [];
    values.forEach((value, i) => {
      let peer: unknown = null;
      try {
        peer = value ? JSON.parse(value) : null;
      } catch {
        // a foreign or damaged entry counts as gone
      }
      if (isPeer(peer)) alive.push({ name: peer.name, url: peer.url });
      else gone.push(others[i]!);
    });
    if (gone.length) await redis.sRem(PEER_SET, gone);
    if (Date.now() < this.graceUntil) for (const p of this.list) if (!alive.some((a) => a.name === p.name)) alive.push(p);
    this.update(alive);
  }

  private update(next: PeerInfo[]): void {
    if (JSON.stringify(next) === JSON.stringify(this.list)) return;
    const before = new Set(this.list.map((p) => p.name));
    const after = new Set(next.map((p) => p.name));
    for (const p of next) if (!before.has(p.name)) log.info({ peer: p.name, url: p.url }, 'node joined the cluster');
    for (const p of this.list) if (!after.has(p.name)) log.info({ peer: p.name, url: p.url }, 'node left the cluster');
    this.list = next;
    for (const p of next) {
      try {
        this.seenOrigins.add(new URL(p.url).origin);
      } catch {
        // not a URL: never an allowed origin
      }
    }
    this.listeners.emit(next);
  }

  /** Leaves the list at once (a clean shutdown), instead of after the key expires. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (!this.link.up) return;
    await this.link.commands
      .multi()
      .del(PEER_KEY(this.self.name))
      .sRem(PEER_SET, this.self.name)
      .exec()
      .catch(() => {});
  }
}
