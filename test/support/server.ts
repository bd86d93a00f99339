/**
 * Starts the real server for a test: ephemeral port, loopback only, and the model
 * dir the test asks for (the committed default model unless told otherwise).
 */
import { io, type Socket } from 'socket.io-client';
import { startServer, type RunningServer } from '../../server/app.js';
import type { UserConfig } from '../../server/config.js';
import type { ClientToServerEvents, Role, ServerToClientEvents } from '../../common/protocol.js';
import type { FrameMeta } from '../../common/frame.js';

export type TestSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export function startTestServer(overrides: UserConfig = {}): Promise<RunningServer> {
  // No multicast DNS unless a test asks for it: parallel test servers would all advertise.
  // No audio input either unless asked for: the test machines have no capture device.
  return startServer({ port: 0, host: '127.0.0.1', oscPort: 0, oscHost: '127.0.0.1', mdns: false, audio: 'off', ...overrides });
}

export function connect(server: { url: string }, role: Role | string, opts: { ack?: boolean; token?: string } = {}): Promise<TestSocket> {
  const socket: TestSocket = io(server.url, { auth: { role, ...(opts.token ? { token: opts.token } : {}) }, transports: ['websocket'], reconnection: false, forceNew: true });
  if (role === 'display' && opts.ack !== false) {
    socket.on('frame', (_meta, _image, ack) => ack());
  }
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => reject(err));
  });
}

export interface ReceivedFrame {
  meta: FrameMeta;
  image: Buffer;
}

/** Collects the next `n` frames a display receives (acknowledging each). */
export function nextFrames(socket: TestSocket, n: number, timeoutMs = 20_000): Promise<ReceivedFrame[]> {
  return new Promise((resolve, reject) => {
    const frames: ReceivedFrame[] = [];
    const timer = setTimeout(() => {
      socket.off('frame', onFrame);
      reject(new Error(`received ${frames.length} of ${n} frames in ${timeoutMs} ms`));
    }, timeoutMs);
    const onFrame = (meta: FrameMeta, image: ArrayBuffer | Uint8Array) => {
      frames.push({ meta, image: Buffer.from(image as Uint8Array) });
      if (frames.length === n) {
        clearTimeout(timer);
        socket.off('frame', onFrame);
        resolve(frames);
      }
    };
    socket.on('frame', onFrame);
  });
}

export function emitAck(socket: TestSocket, event: 'patch' | 'command', payload: unknown) {
  return new Promise<import('../../common/protocol.js').Ack>((resolve) => (event === 'patch' ? socket.emit('patch', payload, resolve) : socket.emit('command', payload, resolve)));
}
