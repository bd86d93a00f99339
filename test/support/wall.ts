/**
 * Video-wall test helpers: nodes as separate server processes (bench/support/server-process.ts,
 * the real `server/main.ts`), display sockets that name their screen, and the frames of
 * one slot from several displays, decoded to raw RGB for comparing pictures.
 */
import { io, type Socket } from 'socket.io-client';
import sharp from 'sharp';
import type { FrameMeta } from '../../common/frame.js';
import { SOCKET_PATH, type Ack, type ClientToServerEvents, type ServerToClientEvents } from '../../common/protocol.js';
import type { WallConfig } from '../../common/wall.js';
import { spawnServer, type ServerProcess } from '../../bench/support/server-process.js';

type Client = Socket<ServerToClientEvents, ClientToServerEvents>;

export interface WallNodeOptions {
  wall: Partial<WallConfig> & Pick<WallConfig, 'layout'>;
  frameSize: number;
  fps?: number;
  upscaler?: 'esrgan-slim' | 'off';
  /** Extra flags (kebab-case names). */
  flags?: Record<string, string | number>;
}

/** A node: the server in its own process, attract mode off (it would change the state by itself). */
export function startWallNode(opts: WallNodeOptions): Promise<ServerProcess> {
  return spawnServer({
    wall: JSON.stringify(opts.wall),
    'frame-size': opts.frameSize,
    fps: opts.fps ?? 10,
    upscaler: opts.upscaler ?? 'off',
    'attract-idle-seconds': 0,
    'socket-event-rate': 0,
    ...opts.flags,
  });
}

export interface WallFrame {
  meta: FrameMeta;
  jpeg: Buffer;
}

export interface WallDisplay {
  socket: Client;
  frames: WallFrame[];
  /** The frame of `slot`, waiting for it up to `timeoutMs`. */
  frameOfSlot(slot: number, timeoutMs?: number): Promise<WallFrame>;
  close(): void;
}

/** A display socket on `url` showing `screen` (or no screen); it acknowledges every frame at once. */
export function openWallDisplay(url: string, screen?: string): Promise<WallDisplay> {
  const socket: Client = io(url, { path: SOCKET_PATH, auth: { role: 'display', ...(screen ? { screen } : {}) }, transports: ['websocket'], reconnection: false, forceNew: true });
  const frames: WallFrame[] = [];
  socket.on('frame', (meta, image, ack) => {
    frames.push({ meta, jpeg: Buffer.from(image as Uint8Array) });
    if (frames.length > 400) frames.shift();
    ack();
  });
  const display: WallDisplay = {
    socket,
    frames,
    async frameOfSlot(slot, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = frames.find((f) => f.meta.slot === slot);
        if (found) return found;
        const newest = frames.at(-1)?.meta.slot ?? -Infinity;
        if (newest > slot + 20) throw new Error(`display ${screen ?? '(no screen)'} skipped slot ${slot} (newest ${newest})`);
        if (Date.now() > deadline) throw new Error(`display ${screen ?? '(no screen)'} got no frame of slot ${slot} in ${timeoutMs} ms (newest ${newest})`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    close: () => socket.disconnect(),
  };
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(display));
    socket.once('connect_error', (err) => reject(err));
  });
}

/** Sets the live state on a node as the administrator (loopback), resolving with the new version. */
export async function patchNode(url: string, patch: unknown): Promise<number> {
  const socket: Client = io(url, { path: SOCKET_PATH, auth: { role: 'controller' }, transports: ['websocket'], reconnection: false, forceNew: true });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    const ack = await new Promise<Ack>((resolve) => socket.emit('patch', patch, resolve));
    if (!ack.ok) throw new Error(`patch refused: ${ack.error}`);
    return ack.version;
  } finally {
    socket.disconnect();
  }
}

/** Waits until every display has frames reflecting `versions` (per display), and returns a slot all of them received after that. */
export async function commonSlot(displays: WallDisplay[], versions: number[], timeoutMs = 30_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const slots = displays.map((d, i) => new Set(d.frames.filter((f) => f.meta.stateVersion >= versions[i]! && f.meta.slot !== undefined).map((f) => f.meta.slot!)));
    const shared = [...slots[0]!].filter((s) => slots.every((set) => set.has(s))).sort((a, b) => a - b);
    // Not the first shared slot: let the settings settle for a few frames on every node.
    if (shared.length >= 4) return shared[3]!;
    if (Date.now() > deadline) throw new Error(`the displays share no slot after the state change within ${timeoutMs} ms (${slots.map((s) => s.size).join(', ')} slots each)`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface Rgb {
  data: Buffer;
  width: number;
  height: number;
}

export async function decode(jpeg: Buffer): Promise<Rgb> {
  const { data, info } = await sharp(jpeg).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** Pictures side by side (same height), left to right. */
export function sideBySide(pictures: Rgb[]): Rgb {
  const height = pictures[0]!.height;
  const width = pictures.reduce((s, p) => s + p.width, 0);
  const data = Buffer.alloc(width * height * 3);
  let x0 = 0;
  for (const p of pictures) {
    if (p.height !== height) throw new Error('sideBySide: heights differ');
    for (let y = 0; y < height; y++) p.data.copy(data, (y * width + x0) * 3, y * p.width * 3, (y + 1) * p.width * 3);
    x0 += p.width;
  }
  return { data, width, height };
}

/** Rows y0..y0+height of a picture. */
export function rows(p: Rgb, y0: number, height: number): Rgb {
  return { data: p.data.subarray(y0 * p.width * 3, (y0 + height) * p.width * 3), width: p.width, height };
}

/** Mean absolute difference per channel value (0..255); `dx` shifts b to the right (for a misalignment control). */
export function meanAbsDiff(a: Rgb, b: Rgb, dx = 0): number {
  if (a.width !== b.width || a.height !== b.height) throw new Error(`sizes differ: ${a.width}x${a.height} vs ${b.width}x${b.height}`);
  let sum = 0;
  let n = 0;
  for (let y = 0; y < a.height; y++) {
    for (let x = Math.max(0, dx); x < a.width + Math.min(0, dx); x++) {
      for (let c = 0; c < 3; c++) {
        sum += Math.abs(a.data[(y * a.width + x) * 3 + c]! - b.data[(y * b.width + x - dx) * 3 + c]!);
        n++;
      }
    }
  }
  return sum / n;
}

/** Mean absolute difference between columns x-1 and x (how much the picture changes across that line). */
export function columnStep(p: Rgb, x: number): number {
  let sum = 0;
  for (let y = 0; y < p.height; y++) for (let c = 0; c < 3; c++) sum += Math.abs(p.data[(y * p.width + x) * 3 + c]! - p.data[(y * p.width + x - 1) * 3 + c]!);
  return sum / (p.height * 3);
}
