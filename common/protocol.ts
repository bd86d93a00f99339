/**
 * The socket.io protocol, spelled once. The server passes these maps to `Server<...>`
 * and the pages to `io()`, so an event name or payload can only change here.
 * Types are not validation: the server still parses every payload it receives.
 */
import { z } from './zod.js';
import type { PageState } from './state.js';
import type { FrameMeta } from './frame.js';
import type { StyleInfo } from './manifest.js';
import type { ModulationMeters } from './modulation.js';

/**
 * Who a socket is; set in the handshake: `io({ auth: { role: 'display' } })`. A display on a
 * video wall also names its screen: `auth: { role: 'display', screen: 'left' }` (common/wall.ts).
 */
export const RoleSchema = z.enum(['display', 'controller']);
export type Role = z.infer<typeof RoleSchema>;

/**
 * State keys (whole sections) only the VJ/administrator may change: the room's picture
 * (blackout, crossfade, caption), the keyframe loop they programme, and the visitor lock.
 * Visitors steer the face; the server refuses these from them. A controller is the VJ's
 * when its handshake carries the admin token: `io({ auth: { role: 'controller', token } })`
 * (see docs/reliability.md).
 */
export const VJ_ONLY_KEYS = Object.freeze(['display', 'loop', 'visitorLock', 'modulation', 'midi'] as const);

/**
 * Room names, for what every socket of a role hears alike: the controllers' status and preset
 * lists, the displays' peer list (and counting either). 'vj' holds the controllers with admin
 * access: they alone hear the VJ's instruments (the state's modulation and MIDI sections, the meters). Frames are not a room broadcast: they
 * reach the displays by a loop over their links, each with its own acknowledgement and
 * one-slot mailbox, so a slow display never holds up the others (server/displays.ts).
 */
export const ROOMS = { display: 'display', controller: 'controller', vj: 'vj' } as const;

export const CommandSchema = z.discriminatedUnion('type', [
  /** Travel to a fresh random face (the walk continues from there). */
  z.object({ type: z.literal('newFace') }),
]);
export type Command = z.infer<typeof CommandSchema>;

/**
 * Why a request was refused, for the program on the other end to act on (in the manner of
 * socket.io's `DisconnectReason`); the `error` beside it says the same to a person. HTTP
 * answers a refusal with the status its code maps to (server/inputs/http-hardening.ts).
 * - 'invalid': the input will never be accepted as sent (a malformed or out-of-range value, an unknown name); HTTP 400
 * - 'not-your-turn': another tablet steers; this one is in the queue and may try again later; 409
 * - 'locked': the performer has locked the tablets (state.visitorLock); try again later; 409
 * - 'rate-limited': over a budget (events per socket, captures per tablet, requests or wrong tokens per address); 429
 * - 'needs-admin': only the VJ/administrator may do this; send the admin token; 401
 * - 'forbidden': not for this client at all (a wrong admin token, a display sending input); 403
 * - 'not-found': no such preset or file; 404
 * - 'full': no room left (the preset limit); 409
 * - 'too-large': the request body is over the cap; 413
 * - 'unavailable': this server does not offer it (capturing without a capture folder); 501
 * - 'failed': the server failed to do it (a disk error, an internal error); 500
 */
export type RefusalCode =
  | 'invalid'
  | 'not-your-turn'
  | 'locked'
  | 'rate-limited'
  | 'needs-admin'
  | 'forbidden'
  | 'not-found'
  | 'full'
  | 'too-large'
  | 'unavailable'
  | 'failed';

/** A refused request, the same shape in every acknowledgement and every HTTP refusal body. */
export interface Refusal {
  ok: false;
  code: RefusalCode;
  error: string;
}

export function refusal(code: RefusalCode, error: string): Refusal {
  return { ok: false, code, error };
}

export type Ack = { ok: true; version: number } | Refusal;

/**
 * Preset names double as file names, so they are plain: letters, digits, _ - and inner
 * spaces, at most 64 characters (no dots, slashes or leading/trailing spaces).
 */
export const PresetNameSchema = z
  .string()
  .max(64)
  .regex(/^[\w-](?:[\w -]*[\w-])?$/, 'preset names are 1-64 letters, digits, _ - or inner spaces');

/** Save the current look under a name, load one, delete one, or list them all. */
export const PresetCommandSchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('save'), name: PresetNameSchema }),
  z.object({ op: z.literal('load'), name: PresetNameSchema }),
  z.object({ op: z.literal('delete'), name: PresetNameSchema }),
  z.object({ op: z.literal('list') }),
]);
export type PresetCommand = z.infer<typeof PresetCommandSchema>;

/** The preset names after the command; `version` is the state version a load produced. */
export type PresetAck = { ok: true; names: string[]; version?: number } | Refusal;

/**
 * A display's sign of life, every few seconds: how often it draws, how many frames it has
 * received since the page loaded, and the GPU adapter WebGL reports (a software adapter
 * such as SwiftShader or llvmpipe means the screen is drawn by the CPU).
 */
export const HeartbeatSchema = z.object({
  fps: z.number().min(0).max(1000),
  frames: z.number().int().min(0),
  renderer: z.string().max(256).optional(),
  /** The screen in device pixels (the canvas's drawing buffer): how large the portrait is shown. */
  screen: z.object({ width: z.number().int().min(1).max(32768), height: z.number().int().min(1).max(32768) }).optional(),
});
export type Heartbeat = z.infer<typeof HeartbeatSchema>;

export interface Status {
  model: string;
  provider: string;
  fps: number;
  displays: number;
  controllers: number;
  frameSize: number;
}

/**
 * What one tablet may do right now under the turn policy (server/arbitration.ts,
 * docs/tablet.md): 'free' (nobody steers: the first touch takes the turn), 'yours'
 * (this tablet steers), 'waiting' (another tablet steers; this one is `position` in the
 * queue, 1 = next), 'watching' (another tablet steers; touching a control joins the queue).
 */
export interface TabletStatus {
  turn: 'free' | 'yours' | 'waiting' | 'watching';
  /** 1-based place in the queue while waiting, else 0. */
  position: number;
  /** Tablets waiting for a turn. */
  queue: number;
  /** Yours: seconds left if someone is waiting (null: no limit while nobody waits). Waiting: about this long until your turn. */
  seconds: number | null;
  /** True while nobody has touched anything for a while and the installation wanders by itself. */
  attract: boolean;
}

/** Save the portrait on screen (PNG + JSON sidecar) for the visitor to fetch from their phone. */
export type CaptureAck =
  | { ok: true; id: string; /** The capture's page on the installation's network (for the QR code). */ url: string; /** The QR code of `url`, as an SVG data URL. */ qr: string }
  | Refusal;

/** GET /api/tablet: what the controller page needs to build itself. */
export interface TabletSetup {
  model: {
    id: string;
    /** Where the page fetches the generator (same origin), to render candidate faces itself. */
    url: string;
    input: string;
    output: string;
    latentSize: number;
    resolution: number;
    range: [number, number];
    /**
     * A generator with a W space: its extra input names, layer count and layer groups, so the
     * tablet can feed its thumbnails (common/generator-inputs.ts) and offers diversity and
     * style mixing. Absent: the generator takes the latent alone and mixing is refused.
     */
    style?: Pick<StyleInfo, 'psi' | 'mixInput' | 'mixFrom' | 'layers' | 'groups'>;
  };
  /** The manifest's named latent directions, in the manifest's order; the vectors stay on the server. */
  directions: { name: string; description?: string; ends?: [string, string] }[];
  /** Friendly dream layer names; empty when no dream network is installed. */
  dreamStyles: { name: string; description?: string }[];
}

/**
 * A live server node of a cluster (docs/cluster.md): its name and the address a display
 * on another node's page can reach it at (origin only, e.g. "http://10.0.0.12:8080").
 */
export interface PeerInfo {
  name: string;
  url: string;
}

export interface ServerToClientEvents {
  /** A new frame; the display acknowledges once it has decoded it, which paces the sender. */
  frame: (meta: FrameMeta, image: ArrayBuffer | Uint8Array, ack: () => void) => void;
  /** The live state after every change, with its version number; only the VJ's sockets get the instruments (state.ts INSTRUMENT_KEYS). */
  state: (state: PageState, version: number) => void;
  status: (status: Status) => void;
  /** The preset names, on connect and whenever one is saved or deleted. */
  presets: (names: string[]) => void;
  /** Controllers only: this tablet's turn and the queue, on connect and whenever they change. */
  tablet: (status: TabletStatus) => void;
  /** The VJ's sockets only (room 'vj'), about 15 times a second while one is connected: the modulation matrix's sources and routes (the VJ page's meters). */
  meters: (meters: ModulationMeters) => void;
  /** Displays, in cluster mode: the live nodes (this one first), on connect and whenever they change; a display fails over to them (display/failover.ts). */
  peers: (peers: PeerInfo[]) => void;
}

export interface ClientToServerEvents {
  /** Change part of the live state; see `PatchSchema`. */
  patch: (patch: unknown, ack?: (result: Ack) => void) => void;
  command: (command: unknown, ack?: (result: Ack) => void) => void;
  /** Save, load, delete or list presets; see `PresetCommandSchema`. */
  preset: (command: unknown, ack?: (result: PresetAck) => void) => void;
  /** Displays only; see `HeartbeatSchema`. */
  heartbeat: (beat: Heartbeat) => void;
  /** Controllers: save the portrait on screen; the ack carries its page and QR code. */
  capture: (ack: (result: CaptureAck) => void) => void;
  /** The VJ: one tap of tap tempo; from the second tap of a run the tempo follows the taps (the ack carries the new version, or a refusal). */
  tap: (ack?: (result: Ack) => void) => void;
  /** Displays: the node's cluster clock (ms) right now, for the display's offset estimate (common/clock.ts). */
  clock: (ack: (clusterNow: number) => void) => void;
}

/** The socket.io path; the pages are served from the same origin. */
export const SOCKET_PATH = '/socket.io';
