/**
 * One turn for the whole wall (docs/cluster.md): a tablet on any node steers, tablets on
 * every node wait. Each node keeps its own tablets' queue (server/arbitration.ts); Redis
 * holds who has the turn and how many wait where:
 *
 * - `portraits:turn` — the holder `{ owner: "node/tablet", node, endsAt }`, with a TTL of
 *   the idle grace, extended while the holder touches: a node that dies holding the turn
 *   frees it by itself.
 * - `portraits:turn:waiting` — per node, how many of its tablets wait, stamped with Redis'
 *   clock; a count not refreshed for WAITING_STALE_MS (a dead node's) no longer counts.
 *
 * A claim is a compare-and-set script: two nodes handing out the turn at the same moment
 * both ask, one wins, and the other puts its tablet back at the head of its queue (`lost`).
 * Changes are published on `portraits:turn`, so waiting nodes hear of a freed turn at once;
 * every node also reads the whole picture once a second. Without Redis each node decides
 * alone (as a single node does) and claims again once Redis is back.
 */
import type { TurnGate } from '../arbitration.js';
import { logger } from '../log.js';
import type { RedisLink } from './redis-connection.js';

const log = logger('cluster');

export const TURN_KEY = 'portraits:turn';
export const WAITING_KEY = 'portraits:turn:waiting';
export const TURN_CHANNEL = 'portraits:turn';
const REFRESH_MS = 1000;
/** A holder's touches extend its claim at most this often (a tablet streams 30 inputs a second). */
const KEEP_EVERY_MS = 1000;
const WAITING_STALE_MS = 5000;

/** KEYS[1] turn. ARGV: owner, value, ttl ms, channel. Takes or extends the turn when it is free or ours (1); else returns the holder. */
const CLAIM = `
local current = redis.call('GET', KEYS[1])
if current and cjson.decode(current).owner ~= ARGV[1] then return current end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
if not current then redis.call('PUBLISH', ARGV[4], ARGV[1]) end
return 1`;

/** KEYS[1] turn. ARGV: owner, channel. Frees the turn if it is ours. */
const RELEASE = `
local current = redis.call('GET', KEYS[1])
if current and cjson.decode(current).owner == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('PUBLISH', ARGV[2], '')
  return 1
end
return 0`;

/**
 * KEYS[1] waiting, KEYS[2] turn. ARGV: node, its waiting count, stale ms, channel. Records this
 * node's count on Redis' clock (publishing a change), forgets long-dead nodes', and returns
 * { waiting elsewhere, holder or '' }.
 */
const REFRESH = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local before = redis.call('HGET', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. ':' .. now)
if not before or string.match(before, '^(%d+):') ~= ARGV[2] then redis.call('PUBLISH', ARGV[4], '') end
local total = 0
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  local count, at = string.match(all[i + 1], '^(%d+):(%d+)$')
  local age = at and (now - tonumber(at)) or 1e12
  if all[i] ~= ARGV[1] and age < tonumber(ARGV[3]) then total = total + tonumber(count) end
  if age > 60000 then redis.call('HDEL', KEYS[1], all[i]) end
end
return { total, redis.call('GET', KEYS[2]) or '' }`;

interface Holder {
  owner: string;
  node: string;
  endsAt: number;
}

function parseHolder(value: unknown): Holder | null {
  if (typeof value !== 'string' || value === '') return null;
  try {
    const parsed = JSON.parse(value) as Partial<Holder>;
    return typeof parsed.owner === 'string' && typeof parsed.node === 'string' && typeof parsed.endsAt === 'number' ? (parsed as Holder) : null;
  } catch {
    return null;
  }
}

type Listener = Parameters<TurnGate['listen']>[0];

export class SharedTurn implements TurnGate {
  /** The turn as Redis last said (null: free, or Redis away). */
  private holder: Holder | null = null;
  private waitingOthers = 0;
  private waitingMine = 0;
  /** This node's tablet with the turn, and when its claim was last extended. */
  private mine: { id: string; endsAt: number; keptAt: number } | null = null;
  private listener: Listener | null = null;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly link: RedisLink,
    private readonly node: () => string,
    /** The claim's lifetime without touches: the turn's idle grace, plus a margin for a slow tick. */
    private readonly ttlMs: number,
  ) {}

  start(): void {
    this.link.subscriber.subscribe(TURN_CHANNEL, () => void this.refresh()).catch((err: Error) => log.warn({ err: err.message }, 'could not subscribe to the turn channel yet; node-redis retries after reconnecting'));
    this.link.onUp(() => {
      // Back from an outage: our holder claims again (and may find another node's got there first).
      if (this.mine) this.send(this.mine.id, this.mine.endsAt);
      void this.refresh();
    });
    this.timer = setInterval(() => void this.refresh(), REFRESH_MS);
    this.timer.unref();
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  listen(listener: Listener): void {
    this.listener = listener;
  }

  heldElsewhere(): { endsAt: number } | null {
    return this.holder && this.holder.node !== this.node() ? { endsAt: this.holder.endsAt } : null;
  }

  waitingElsewhere(): number {
    return this.waitingOthers;
  }

  claim(id: string, endsAt: number): void {
    this.mine = { id, endsAt, keptAt: Date.now() };
    this.send(id, endsAt);
  }

  keep(id: string): void {
    if (!this.mine || this.mine.id !== id || Date.now() - this.mine.keptAt < KEEP_EVERY_MS) return;
    this.mine.keptAt = Date.now();
    this.send(id, this.mine.endsAt);
  }

  release(id: string): void {
    if (this.mine?.id === id) this.mine = null;
    if (!this.link.up) return;
    this.link.commands
      .eval(RELEASE, { keys: [TURN_KEY], arguments: [this.owner(id), TURN_CHANNEL] })
      .then(() => this.refresh())
      .catch((err: Error) => log.debug({ err: err.message }, 'turn release did not reach Redis'));
  }

  waitingHere(count: number): void {
    if (count === this.waitingMine) return;
    this.waitingMine = count;
    // Other nodes hear of it at once (the script publishes a changed count), not at their next refresh.
    void this.refresh();
  }

  private owner(id: string): string {
    return `${this.node()}/${id}`;
  }

  private send(id: string, endsAt: number): void {
    if (!this.link.up) return;
    const value: Holder = { owner: this.owner(id), node: this.node(), endsAt };
    this.link.commands
      .eval(CLAIM, { keys: [TURN_KEY], arguments: [value.owner, JSON.stringify(value), String(this.ttlMs), TURN_CHANNEL] })
      .then((reply) => {
        if (reply === 1) return this.adopt(value, this.waitingOthers);
        const other = parseHolder(reply);
        this.adopt(other, this.waitingOthers);
        if (other && other.node !== this.node() && this.mine?.id === id) {
          this.mine = null;
          log.info({ tablet: id, holder: other.node }, 'a tablet on another node took the turn first');
          this.listener?.lost(id);
        }
      })
      .catch((err: Error) => log.debug({ err: err.message }, 'turn claim did not reach Redis'));
  }

  private async refresh(): Promise<void> {
    if (this.closed) return;
    if (!this.link.up) return this.adopt(null, 0);
    try {
      const reply = (await this.link.commands.eval(REFRESH, { keys: [WAITING_KEY, TURN_KEY], arguments: [this.node(), String(this.waitingMine), String(WAITING_STALE_MS), TURN_CHANNEL] })) as [number, string];
      this.adopt(parseHolder(reply[1]), Number(reply[0]) || 0);
    } catch (err) {
      log.debug({ err: (err as Error).message }, 'turn refresh did not reach Redis');
      this.adopt(null, 0);
    }
  }

  /** Takes a new picture of the cluster's turn; the tablets hear when it changed what they see. */
  private adopt(holder: Holder | null, waitingOthers: number): void {
    const before = `${this.heldElsewhere()?.endsAt ?? ''}|${this.waitingOthers}`;
    this.holder = holder;
    this.waitingOthers = waitingOthers;
    if (`${this.heldElsewhere()?.endsAt ?? ''}|${this.waitingOthers}` !== before) this.listener?.changed();
  }
}
