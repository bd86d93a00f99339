/**
 * Per-socket event budget: a token bucket (the `limiter` package) in front of every
 * event a socket sends, so one tablet (or a script pretending to be one) cannot keep
 * the store, and every other tablet's state broadcast, busy. Over budget, an event is
 * dropped before any handler runs and its acknowledgement says why.
 */
import type { Socket } from 'socket.io';
import { TokenBucket } from 'limiter';
import { refusal, type Refusal } from '../../common/protocol.js';
import { logger } from '../log.js';

const log = logger('socket');

export const SLOW_DOWN = 'too many messages: slow down';

/** `perSecond` events a second on average, bursts of twice that; 0 means no limit. */
export function limitEvents(socket: Socket, perSecond: number): void {
  if (!(perSecond > 0)) return;
  const burst = Math.max(1, Math.ceil(perSecond * 2));
  const bucket = new TokenBucket({ bucketSize: burst, tokensPerInterval: perSecond, interval: 'second' });
  bucket.content = burst;
  let dropped = 0;
  socket.use((packet, next) => {
    if (bucket.tryRemoveTokens(1)) return next();
    // Not calling next() drops the event; an error would only be echoed to the server's own socket.
    if (dropped++ === 0) log.warn({ id: socket.id, address: socket.handshake.address, perSecond }, 'socket over its event budget; dropping events');
    const ack = packet[packet.length - 1];
    if (typeof ack === 'function') (ack as (r: Refusal) => void)(refusal('rate-limited', SLOW_DOWN));
  });
  socket.once('disconnect', () => {
    if (dropped > 0) log.warn({ id: socket.id, dropped }, 'events dropped over budget during this connection');
  });
}
