/**
 * Tablets and displays over socket.io. The role comes from the handshake; every event
 * payload is parsed by the store, acknowledgements say what was wrong, and nothing a
 * client sends (wrong types, missing callbacks, floods of garbage) can throw here.
 * Controllers are visitors unless the handshake proves the VJ/administrator (server/access.ts);
 * every socket has an event budget (socket-limits.ts), and state broadcasts are coalesced.
 */
import type { Server, Socket } from 'socket.io';
import { ROOMS, RoleSchema, refusal, type Ack, type CaptureAck, type ClientToServerEvents, type PresetAck, type Role, type ServerToClientEvents } from '../../common/protocol.js';
import { decideAccess, storeSource, visitorPatchRefusal, visitorPresetRefusal, type Access, type AccessPolicy } from '../access.js';
import type { DisplayHub } from '../displays.js';
import { logger } from '../log.js';
import type { TabletFloor } from '../arbitration.js';
import type { AuthFailures } from './http-hardening.js';
import { limitEvents } from './socket-limits.js';
import { runPresetCommand, type PresetStore } from '../presets.js';
import type { Source, Store } from '../store.js';
import { screenRefusal } from '../wall/screens.js';
import { withoutInstruments } from '../../common/state.js';
import type { WallConfig } from '../../common/wall.js';

const log = logger('socket');

export interface SocketData {
  role: Role;
  access: Access;
  /** The wall screen a display shows (handshake auth.screen); undefined outside walls. */
  screen?: string;
}

export interface SocketAccessOptions {
  policy: AccessPolicy;
  /** Wrong admin tokens per address, shared with HTTP. */
  failures: AuthFailures;
  /** Events per second one socket may send; 0 = unlimited. */
  eventRate: number;
  /** Turns, queue and attract hand-off for tablets (server/arbitration.ts); without it, inputs go straight to the store. */
  floor?: TabletFloor;
  /** Saves the portrait on screen; `host` is the address the tablet used to reach us (server/inputs/captures.ts). */
  capture?: (socketId: string, host: string | undefined) => Promise<CaptureAck>;
  /** The video wall (common/wall.ts): which screens a display may name. Absent: a single screen. */
  wall?: WallConfig;
  /** The cluster clock displays estimate their offset against (server/wall/clock.ts); absent: Date.now. */
  clusterNow?: () => number;
  /** Tap tempo (server/modulation/modulator.ts); absent where the matrix does not run (a cluster). */
  tap?: (source: Source) => Ack;
}

/**
 * At most one 'state' broadcast per this many milliseconds, always of the newest state:
 * 200 tablets sending 30 changes a second each would otherwise be 200 x 6,000 messages a
 * second. Ten a second is smooth for the tablets' controls (the display's frames do not
 * wait for it), and halved the cost of the fan-out in the load bench against 25 a second.
 */
export const STATE_BROADCAST_MS = 100;

export type PortraitServer = Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;
type PortraitSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;

function reply(ack: unknown, result: Ack | PresetAck | CaptureAck): void {
  if (typeof ack === 'function') (ack as (r: Ack | PresetAck | CaptureAck) => void)(result);
}

/** Wires the socket inputs; the returned function stops the pending state broadcast (server close). */
export function attachSocketInputs(io: PortraitServer, store: Store, displays: DisplayHub, presets: PresetStore | undefined, opts: SocketAccessOptions): () => void {
  io.use((socket, next) => {
    const auth = socket.handshake.auth as Record<string, unknown> | undefined;
    const role = RoleSchema.safeParse(auth?.role);
    if (!role.success) return next(new Error("handshake auth.role must be 'display' or 'controller'"));
    socket.data.role = role.data;
    if (role.data === 'display' && opts.wall) {
      const screen = screenRefusal(opts.wall, auth?.screen);
      if ('error' in screen) return next(new Error(screen.error));
      socket.data.screen = screen.name;
    }
    const address = socket.handshake.address;
    const token = auth?.token;
    const check = async (): Promise<Error | null> => {
      if (token !== undefined && (await opts.failures.blocked(address))) return new Error('too many wrong admin tokens from this address; try again later');
      const access = decideAccess(opts.policy, address, token);
      if (typeof access !== 'string') {
        await opts.failures.note(address);
        log.warn({ address, role: role.data }, `handshake refused: ${access.error}`);
        return new Error(access.error);
      }
      socket.data.access = access;
      return null;
    };
    check().then(
      (err) => next(err ?? undefined),
      (err: Error) => next(err),
    );
  });

  io.on('connection', (socket: PortraitSocket) => {
    const { role, access } = socket.data;
    const source = storeSource(access);
    limitEvents(socket, opts.eventRate);
    void socket.join(ROOMS[role]);
    const vj = role === 'controller' && access === 'admin';
    if (vj) void socket.join(ROOMS.vj);
    if (role === 'display') displays.add(socket, socket.data.screen);
    log.info({ id: socket.id, role, access, address: socket.handshake.address, ...(socket.data.screen ? { screen: socket.data.screen } : {}) }, 'connected');
    socket.emit('state', vj ? store.state : withoutInstruments(store.state), store.version);
    const floor = role === 'controller' ? opts.floor : undefined;
    const steer = (step: { patch: unknown } | { command: unknown }) => (floor ? floor.steer(socket.id, access, [step], source) : store.applyMany([step], source));
    floor?.join(socket.id);

    socket.on('patch', (patch: unknown, ack?: unknown) => {
      if (role !== 'controller') return reply(ack, refusal('forbidden', 'only controllers may change the state'));
      const refused = access === 'visitor' ? visitorPatchRefusal(patch) : null;
      if (refused) return reply(ack, refused);
      reply(ack, steer({ patch }));
    });
    socket.on('command', (command: unknown, ack?: unknown) => {
      if (role !== 'controller') return reply(ack, refusal('forbidden', 'only controllers may send commands'));
      reply(ack, steer({ command }));
    });
    socket.on('capture', (ack: unknown) => {
      if (role !== 'controller') return reply(ack, refusal('forbidden', 'only controllers may capture'));
      if (!opts.capture) return reply(ack, refusal('unavailable', 'capturing is not available here'));
      opts.capture(socket.id, socket.handshake.headers.host).then(
        (result) => reply(ack, result),
        (err: Error) => reply(ack, refusal('failed', err.message)),
      );
    });
    socket.on('tap', (ack: unknown) => {
      if (!vj) return reply(ack, refusal(role === 'controller' ? 'needs-admin' : 'forbidden', 'tap tempo is the VJ/administrator\'s'));
      if (!opts.tap) return reply(ack, refusal('unavailable', 'the modulation matrix does not run here (cluster mode)'));
      reply(ack, opts.tap(source));
    });
    socket.on('clock', (ack: unknown) => {
      if (typeof ack === 'function') (ack as (now: number) => void)((opts.clusterNow ?? Date.now)());
    });
    if (presets && role === 'controller') socket.emit('presets', presets.names());
    socket.on('preset', (command: unknown, ack?: unknown) => {
      if (role !== 'controller') return reply(ack, refusal('forbidden', 'only controllers may use presets'));
      if (!presets) return reply(ack, refusal('unavailable', 'presets are not available here'));
      const refused = access === 'visitor' ? visitorPresetRefusal(command) : null;
      if (refused) return reply(ack, refused);
      runPresetCommand(presets, store, command, source).then(
        (result) => reply(ack, result),
        (err: Error) => {
          log.error({ err: err.message }, 'preset command failed');
          reply(ack, refusal('failed', 'internal error'));
        },
      );
    });
    socket.on('disconnect', (reason) => {
      if (role === 'display') displays.remove(socket);
      floor?.leave(socket.id);
      log.info({ id: socket.id, role, reason }, 'disconnected');
    });
  });

  // io.local: in a cluster (docs/cluster.md) presets are this node's files, and every node sends
  // its own replica of the state to its own clients, so no client hears a change twice.
  presets?.onChange((names) => io.local.to(ROOMS.controller).emit('presets', names));
  // Every tablet sees every change, whoever made it: the first at once, then at most one per STATE_BROADCAST_MS, newest wins.
  let timer: NodeJS.Timeout | null = null;
  let lastSent = 0;
  const broadcast = () => {
    timer = null;
    lastSent = Date.now();
    // The VJ's instruments go to the VJ's sockets only (visitors never see the matrix or the mappings).
    io.local.to(ROOMS.vj).emit('state', store.state, store.version);
    io.local.except(ROOMS.vj).emit('state', withoutInstruments(store.state), store.version);
  };
  const unsubscribe = store.subscribe(() => {
    if (timer) return;
    const wait = lastSent + STATE_BROADCAST_MS - Date.now();
    if (wait <= 0) broadcast();
    else timer = setTimeout(broadcast, wait);
  });
  return () => {
    unsubscribe();
    if (timer) clearTimeout(timer);
    timer = null;
  };
}
