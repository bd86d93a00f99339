/**
 * Tablets and displays over socket.io. The role comes from the handshake; every event
 * payload is parsed by the store, acknowledgements say what was wrong, and nothing a
 * client sends (wrong types, missing callbacks, floods of garbage) can throw here.
 */
import type { Server, Socket } from 'socket.io';
import { ROOMS, RoleSchema, type Ack, type ClientToServerEvents, type PresetAck, type Role, type ServerToClientEvents } from '../../common/protocol.js';
import type { DisplayHub } from '../displays.js';
import { logger } from '../log.js';
import { runPresetCommand, type PresetStore } from '../presets.js';
import type { Store } from '../store.js';

const log = logger('socket');

export interface SocketData {
  role: Role;
}

export type PortraitServer = Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;
type PortraitSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;

function reply(ack: unknown, result: Ack | PresetAck): void {
  if (typeof ack === 'function') (ack as (r: Ack | PresetAck) => void)(result);
}

export function attachSocketInputs(io: PortraitServer, store: Store, displays: DisplayHub, presets?: PresetStore): void {
  io.use((socket, next) => {
    const role = RoleSchema.safeParse((socket.handshake.auth as Record<string, unknown> | undefined)?.role);
    if (!role.success) return next(new Error("handshake auth.role must be 'display' or 'controller'"));
    socket.data.role = role.data;
    next();
  });

  io.on('connection', (socket: PortraitSocket) => {
    const role = socket.data.role;
    void socket.join(ROOMS[role]);
    if (role === 'display') displays.add(socket);
    log.info({ id: socket.id, role, address: socket.handshake.address }, 'connected');
    socket.emit('state', store.state, store.version);

    socket.on('patch', (patch: unknown, ack?: unknown) => {
      if (role !== 'controller') return reply(ack, { ok: false, error: 'only controllers may change the state' });
      reply(ack, store.apply(patch, 'tablet'));
    });
    socket.on('command', (command: unknown, ack?: unknown) => {
      if (role !== 'controller') return reply(ack, { ok: false, error: 'only controllers may send commands' });
      reply(ack, store.command(command, 'tablet'));
    });
    if (presets && role === 'controller') socket.emit('presets', presets.names());
    socket.on('preset', (command: unknown, ack?: unknown) => {
      if (role !== 'controller' || !presets) return reply(ack, { ok: false, error: 'only controllers may use presets' });
      runPresetCommand(presets, store, command, 'tablet').then(
        (result) => reply(ack, result.ack),
        (err: Error) => {
          log.error({ err: err.message }, 'preset command failed');
          reply(ack, { ok: false, error: 'internal error' });
        },
      );
    });
    socket.on('disconnect', (reason) => {
      if (role === 'display') displays.remove(socket);
      log.info({ id: socket.id, role, reason }, 'disconnected');
    });
  });

  presets?.onChange((names) => io.to(ROOMS.controller).emit('presets', names));
  // Every tablet sees every change, whoever made it.
  store.subscribe((state, version) => {
    io.emit('state', state, version);
  });
}
