/**
 * The walk's anchor, shared through Redis so every node of a wall uses the same one
 * (server/wall/walk-anchor.ts). Whenever a node sees the walk's seed or speed change, it
 * offers the anchor it computed; the first offer for that (seed, speed) is kept and every
 * node adopts it, including one that starts later: it offers its own and gets the stored
 * one back. One small Lua script, so offer-and-read is atomic. Without Redis (or while it
 * is away) each node keeps its own anchor, as documented in docs/cluster.md.
 */
import type { RedisCommander } from './clock.js';
import type { Anchor } from './walk-anchor.js';

/** Keeps the first anchor offered for a (seed, speed) and hands it to every later offer. */
export interface AnchorStore {
  claim(mine: Anchor): Promise<Anchor>;
}

const KEY = 'portraits:wall:walk-anchor';

// The stored JSON is returned as it was written, so no number is re-encoded (and rounded) by cjson.
const CLAIM = `
local current = redis.call('GET', KEYS[1])
if current then
  local c = cjson.decode(current)
  local m = cjson.decode(ARGV[1])
  if c.seed == m.seed and c.speed == m.speed then return current end
end
redis.call('SET', KEYS[1], ARGV[1])
return ARGV[1]`;

export function redisAnchorStore(redis: RedisCommander): AnchorStore {
  return {
    async claim(mine) {
      const reply = await redis.sendCommand(['EVAL', CLAIM, '1', KEY, JSON.stringify(mine)]);
      const parsed = JSON.parse(String(reply)) as Partial<Anchor>;
      const { seed, speed, phase0, t0 } = parsed;
      if (![seed, speed, phase0, t0].every((v) => typeof v === 'number' && Number.isFinite(v))) throw new Error(`malformed walk anchor in Redis: ${String(reply).slice(0, 200)}`);
      return { seed: seed!, speed: speed!, phase0: phase0!, t0: t0! };
    },
  };
}
