/**
 * Opens the typed socket both pages use (the display and the tablet; the server never
 * imports this). The event maps from protocol.ts are the type parameters, so an event
 * name or payload can only be spelled there.
 * The installation runs unattended: the socket never gives up reconnecting, backs off
 * with jitter (so a room full of displays does not hammer a restarting server in step),
 * and retries even when the server refused the handshake.
 */
import { io, type Socket } from 'socket.io-client';
import { SOCKET_PATH, type ClientToServerEvents, type Role, type ServerToClientEvents } from './protocol.js';

export type PageSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

const RECONNECT = Object.freeze({
  reconnection: true,
  reconnectionAttempts: Infinity,
  reconnectionDelay: 500,
  // A restarted server must have its displays back within 3 s (docs/reliability.md), and its
  // first frames may take a second on a busy machine; a failed attempt is one refused TCP
  // connect, cheap even for a room full of screens.
  reconnectionDelayMax: 1000,
  randomizationFactor: 0.5,
});

/** After a refused handshake socket.io stops retrying on its own; wait about this long, then try again. */
const REFUSED_RETRY_MS = 3000;

/** `auth` adds to the handshake (a wall display's `screen`, wall.ts). */
export function openSocket(role: Role, auth: Record<string, string> = {}): PageSocket {
  const socket: PageSocket = io({ auth: { ...auth, role }, path: SOCKET_PATH, ...RECONNECT });
  socket.on('connect_error', () => {
    // `active` is false only when the server refused us (middleware error); transport
    // failures keep it true and the manager's own backoff handles them.
    if (socket.active) return;
    const jitter = 1 + (Math.random() - 0.5) * RECONNECT.randomizationFactor * 2;
    setTimeout(() => {
      if (!socket.connected && !socket.active) socket.connect();
    }, REFUSED_RETRY_MS * jitter);
  });
  return socket;
}
