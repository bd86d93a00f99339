/**
 * Streams the modulation matrix's meters (Modulator.meters) to the VJ's sockets (room 'vj')
 * about 15 times a second, and only while one is connected: nothing is built for an empty room.
 */
import { ROOMS } from '../../common/protocol.js';
import type { PortraitServer } from '../inputs/socket.js';
import type { Modulator } from './modulator.js';

/** 15 a second: smooth sparklines, a tenth of the 30 Hz ticks' values, negligible on the wire. */
export const METERS_MS = 66;

export function streamMeters(io: PortraitServer, modulator: Modulator): () => void {
  const timer = setInterval(() => {
    if (!io.of('/').adapter.rooms.get(ROOMS.vj)?.size) return;
    io.local.to(ROOMS.vj).emit('meters', modulator.meters());
  }, METERS_MS);
  timer.unref();
  return () => clearInterval(timer);
}
