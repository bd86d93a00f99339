/**
 * socket.io's Redis adapter (docs/cluster.md): with it, a broadcast made with io.emit or
 * io.to(room) reaches the matching clients on every node, and fetchSockets() sees them
 * all. The adapter shares the node's two Redis connections, wrapped so that a publish
 * failing while Redis is away (the adapter does not await it) is logged, not fatal.
 * The project's own broadcasts (state, status, peers, turns) use io.local on purpose:
 * every node holds the replicated state and tells its own clients, so nobody hears it twice.
 */
import { createAdapter } from '@socket.io/redis-adapter';
import type { Server } from 'socket.io';
import { logger } from '../log.js';
import { guarded, type RedisLink } from './redis-connection.js';

const log = logger('cluster');

/** socket.io's channels in Redis start with this (the adapter's `key`). */
export const ADAPTER_KEY = 'portraits:socket.io';
/** How long fetchSockets() and friends wait for the other nodes (a dead node never answers). */
const ADAPTER_REQUEST_MS = 1500;

export function attachRedisAdapter(io: Server, link: RedisLink): void {
  let lastWarned = 0;
  const onError = (err: unknown) => {
    // While Redis is away every broadcast fails the same way; once a minute is enough to say so.
    if (Date.now() - lastWarned < 60_000) return;
    lastWarned = Date.now();
    log.warn({ err: (err as Error)?.message ?? String(err) }, 'a socket.io broadcast could not reach the other nodes (Redis away?); local clients still got it');
  };
  io.adapter(createAdapter(guarded(link.commands, onError), guarded(link.subscriber, onError), { key: ADAPTER_KEY, requestsTimeout: ADAPTER_REQUEST_MS }));
}
