/**
 * UserConfig -> ResolvedConfig. Sources, later ones winning: defaults, a JSON config
 * file (--config or PORTRAITS_CONFIG), environment variables, command-line flags,
 * and overrides passed in code (tests). The result is validated once and frozen;
 * an invalid value stops the start with a message naming the key and how to fix it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import { z } from 'zod';
import { ScheduleSchema } from './schedule.js';
import { WallSchema } from '../common/wall.js';

export const ROOT_DIR = fileURLToPath(new URL('..', import.meta.url));

/** A list from a JSON array, or from a comma-separated string (environment, flags). */
const hostList = z.preprocess(
  (v) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : v),
  z.array(z.string().min(1)),
);

export const ConfigSchema = z
  .object({
    /** HTTP port for the pages, socket.io and the REST API; 0 picks a free port. */
    port: z.coerce.number().int().min(0).max(65535).default(8080),
    host: z.string().min(1).default('0.0.0.0'),
    /** Folder whose sub-folders each hold one model: manifest.json + ONNX files. */
    modelsDir: z.string().default(resolve(ROOT_DIR, 'models')),
    /** The generator to run, by its manifest id. */
    model: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/i, 'letters, digits, . _ - only').default('default-face'),
    /** Side in pixels of the square frames sent to displays. */
    frameSize: z.coerce.number().int().min(32).max(4096).default(256),
    /** Frames per second the server aims to generate. */
    fps: z.coerce.number().min(1).max(120).default(30),
    /** onnxruntime execution provider: auto tries WebGPU where a GPU exists and falls back to CPU. */
    provider: z.enum(['auto', 'webgpu', 'cpu']).default('auto'),
    jpegQuality: z.coerce.number().int().min(1).max(100).default(92),
    /** The network the dream passes use, by manifest id; "" = the shipped Darknet tiny (models/darknet-tiny), else the generator's related critic. */
    dreamModel: z.string().regex(/^([a-z0-9][a-z0-9._-]*)?$/i, 'letters, digits, . _ - only').default(''),
    /** Side in pixels of the square the live dream pass works at. */
    dreamSize: z.coerce.number().int().min(32).max(1024).default(128),
    /**
     * How the gentle dream carries its detail to the next frame: 'warped' moves it with the face
     * (optical flow between consecutive portraits, server/dream/flow.ts), 'still' leaves it where
     * it was, 'off' dreams every frame afresh (bench/dream.bench.ts --flicker compares them).
     */
    dreamCarry: z.enum(['warped', 'still', 'off']).default('warped'),
    /**
     * The face stage (an x2 face super-resolution model, between the dream and the ESRGAN passes):
     * "" = the generator's own (its manifest's related.face) when installed, "off" = none, else a model id.
     */
    faceModel: z.string().regex(/^([a-z0-9][a-z0-9._-]*)?$/i, 'letters, digits, . _ - only').default(''),
    /** ESRGAN family of the live upscale passes (converted from its npm package at first start); 'off' leaves the stage out. */
    upscaler: z.enum(['esrgan-slim', 'esrgan-medium', 'off']).default('esrgan-slim'),
    /** Where converted upscalers are cached, one folder per model, keyed by package version (never committed). */
    upscaleCacheDir: z.string().default(resolve(ROOT_DIR, 'models/.converted')),
    /** In upscale mode 'auto', the share of the frame period (1/fps) the whole frame path may use. */
    upscaleBudget: z.coerce.number().min(0.1).max(1).default(0.9),
    /** Folder of the built pages (npm run build). */
    pagesDir: z.string().default(resolve(ROOT_DIR, 'dist/pages')),
    /** UDP port for OSC control (see docs/osc.md); 0 picks a free port, 'off' disables OSC. */
    oscPort: z.union([z.literal('off'), z.coerce.number().int().min(0).max(65535)], { error: "a UDP port 0-65535, or 'off'" }).default(9000),
    /** Address the OSC socket binds to; '::' listens on IPv6 and IPv4. */
    oscHost: z.string().min(1).default('0.0.0.0'),
    /** Hosts allowed to send OSC: addresses, CIDR subnets (192.168.1.0/24) or '*'; others are ignored. */
    oscAllow: hostList.default(['127.0.0.1', '::1']),
    /** OSC surfaces that always receive state changes, as host:port ([v6addr]:port for IPv6). */
    oscFeedback: hostList.default([]),
    /** Advertise OSCQuery (_oscjson._tcp, the HTTP port) and OSC (_osc._udp) over multicast DNS so VJ tools find the installation; false turns it off. */
    mdns: z.preprocess((v) => (v === 'true' || v === '1' || v === 'on' ? true : v === 'false' || v === '0' || v === 'off' ? false : v), z.boolean()).default(true),
    /** Folder of saved presets, one JSON file each. */
    presetsDir: z.string().default(resolve(ROOT_DIR, 'presets')),
    /** Folder live recordings are written to (docs/recording.md). */
    recordingsDir: z.string().default(resolve(ROOT_DIR, 'recordings')),
    /** Recording refuses to start, and stops cleanly, when the recordings disk has less free than this (bytes). */
    minFreeBytes: z.coerce.number().int().min(0).default(2_000_000_000),
    /** Opening hours (see server/schedule.ts); absent means always open. From the environment or a flag, as JSON. */
    schedule: z.preprocess(parseJsonString, ScheduleSchema).optional(),
    /** A display that has sent no heartbeat for this many seconds is reported as stale by /health. */
    heartbeatStaleSeconds: z.coerce.number().min(1).max(3600).default(20),
    /** /health is 'degraded' while generation runs below this fraction of `fps`; 0 turns the check off. */
    degradedFpsRatio: z.coerce.number().min(0).max(1).default(0.5),
    /**
     * The VJ/administrator's secret (see docs/reliability.md). Set: admin requests send it
     * (HTTP `Authorization: Bearer ...`, socket.io `auth.token`). Unset: only this machine
     * (loopback) is admin. Prefer the environment or the config file: flags show in `ps`.
     */
    adminToken: z.string().min(12, 'at least 12 characters (e.g. `openssl rand -hex 16`)').max(256).optional(),
    /** HTTP requests per minute one client address may make; 0 turns the limit off. */
    httpRateLimit: z.coerce.number().int().min(0).default(600),
    /** socket.io events per second one socket may send (bursts of twice that); 0 turns the limit off. */
    socketEventRate: z.coerce.number().min(0).default(60),
    /** Seconds without any input before the installation wanders by itself (attract mode, docs/tablet.md); 0 turns it off. */
    attractIdleSeconds: z.coerce.number().min(0).max(86400).default(90),
    /** How it wanders: 'walk' (a slow random walk) or 'loop' (the VJ's keyframe loop of curated seeds). */
    attractMode: z.enum(['walk', 'loop']).default('walk'),
    /** Faces per second of the attract walk. */
    attractWalkSpeed: z.coerce.number().min(0.01).max(2).default(0.05),
    /** Longest tablet turn while other tablets wait, seconds (docs/tablet.md). */
    turnSeconds: z.coerce.number().min(5).max(3600).default(45),
    /** A tablet's turn lapses after this long without a touch, seconds. */
    turnIdleSeconds: z.coerce.number().min(2).max(600).default(10),
    /** Folder of the visitors' captures (PNG + JSON sidecar); never committed. */
    capturesDir: z.string().default(resolve(ROOT_DIR, 'captures')),
    /**
     * The audio the modulation matrix's audio sources analyse (docs/osc.md): 'default' (the capture
     * device: PulseAudio's default source where it runs, else ALSA's), 'alsa:NAME' or 'pulse:NAME',
     * a file (played in real time, looped), or 'off'. A missing device is logged and tried again later.
     */
    audio: z.string().max(1024).default('default'),
    /** Guide pictures uploaded for guided dreams (PUT /api/guides/NAME, admin only); never committed. */
    guidesDir: z.string().default(resolve(ROOT_DIR, 'guides')),
    /** Captures kept; the oldest are deleted beyond this. */
    capturesKeep: z.coerce.number().int().min(1).max(1_000_000).default(5000),
    /** Side of each capture's take-home print, made in the background with ESRGAN (px); 0 makes none. */
    capturePrintSize: z.coerce.number().int().refine((n) => n === 0 || (n >= 256 && n <= 4096), 'is 0 (no prints) or 256 to 4096').default(1024),
    /**
     * How other machines reach this node (e.g. http://192.168.1.20:8080): phones open captures
     * there, and in a cluster the other nodes' displays fail over to it. Unset: captures use the
     * address the tablet used; the cluster uses this machine's first LAN address and the port.
     */
    publicUrl: z.url({ protocol: /^https?$/ }).optional(),
    /** Cluster mode (docs/cluster.md): the shared Redis, e.g. redis://10.0.0.5:6379; "" = a single node. */
    redisUrl: z.union([z.literal(''), z.url({ protocol: /^rediss?$/ })], { error: 'a redis:// or rediss:// URL, or "" for a single node' }).default(''),
    /** This node's name in the cluster (logs, peer list); "" = the host name and the port. */
    nodeName: z.string().regex(/^([a-z0-9][a-z0-9._-]{0,62})?$/i, 'letters, digits, . _ - only, at most 63').default(''),
    /** Makes frames in a worker thread (server/pipeline/worker.ts), so sockets, OSC and HTTP never wait on a frame; false makes them in the main thread. */
    frameWorker: z.preprocess((v) => (v === 'true' || v === '1' ? true : v === 'false' || v === '0' ? false : v), z.boolean()).default(true),
    /** Puts each frame's latent into its metadata (tests and debugging; about 1.5 KB a frame). */
    debugFrameLatent: z.preprocess((v) => (v === 'true' || v === '1' ? true : v === 'false' || v === '0' ? false : v), z.boolean()).default(false),
    /** Video wall (docs/cluster.md): layout 'single' | 'mirror' | 'tile' | 'gallery', the grid, the screens and the presentation delay. From the environment or a flag, as JSON. */
    wall: z.preprocess(parseJsonString, WallSchema).default({ layout: 'single', columns: 1, rows: 1, screens: [], presentDelayMs: 150 }),
  })
  .strict();

export type UserConfig = z.input<typeof ConfigSchema>;
export type ResolvedConfig = Readonly<z.output<typeof ConfigSchema>>;

/** Environment variables and the config key each one sets. */
export const ENV_KEYS: Readonly<Record<string, keyof UserConfig>> = Object.freeze({
  PORT: 'port',
  HOST: 'host',
  PORTRAITS_MODELS_DIR: 'modelsDir',
  PORTRAITS_MODEL: 'model',
  PORTRAITS_FRAME_SIZE: 'frameSize',
  PORTRAITS_FPS: 'fps',
  PORTRAITS_PROVIDER: 'provider',
  PORTRAITS_JPEG_QUALITY: 'jpegQuality',
  PORTRAITS_DREAM_MODEL: 'dreamModel',
  PORTRAITS_DREAM_SIZE: 'dreamSize',
  PORTRAITS_DREAM_CARRY: 'dreamCarry',
  PORTRAITS_FACE_MODEL: 'faceModel',
  PORTRAITS_UPSCALER: 'upscaler',
  PORTRAITS_UPSCALE_CACHE_DIR: 'upscaleCacheDir',
  PORTRAITS_UPSCALE_BUDGET: 'upscaleBudget',
  PORTRAITS_OSC_PORT: 'oscPort',
  PORTRAITS_OSC_HOST: 'oscHost',
  PORTRAITS_OSC_ALLOW: 'oscAllow',
  PORTRAITS_OSC_FEEDBACK: 'oscFeedback',
  PORTRAITS_MDNS: 'mdns',
  PORTRAITS_PRESETS_DIR: 'presetsDir',
  PORTRAITS_RECORDINGS_DIR: 'recordingsDir',
  PORTRAITS_MIN_FREE_BYTES: 'minFreeBytes',
  PORTRAITS_SCHEDULE: 'schedule',
  PORTRAITS_HEARTBEAT_STALE_SECONDS: 'heartbeatStaleSeconds',
  PORTRAITS_DEGRADED_FPS_RATIO: 'degradedFpsRatio',
  PORTRAITS_ADMIN_TOKEN: 'adminToken',
  PORTRAITS_HTTP_RATE_LIMIT: 'httpRateLimit',
  PORTRAITS_SOCKET_EVENT_RATE: 'socketEventRate',
  PORTRAITS_ATTRACT_IDLE_SECONDS: 'attractIdleSeconds',
  PORTRAITS_ATTRACT_MODE: 'attractMode',
  PORTRAITS_ATTRACT_WALK_SPEED: 'attractWalkSpeed',
  PORTRAITS_TURN_SECONDS: 'turnSeconds',
  PORTRAITS_TURN_IDLE_SECONDS: 'turnIdleSeconds',
  PORTRAITS_CAPTURES_DIR: 'capturesDir',
  PORTRAITS_GUIDES_DIR: 'guidesDir',
  PORTRAITS_AUDIO: 'audio',
  PORTRAITS_CAPTURES_KEEP: 'capturesKeep',
  PORTRAITS_CAPTURE_PRINT_SIZE: 'capturePrintSize',
  PORTRAITS_PUBLIC_URL: 'publicUrl',
  PORTRAITS_REDIS_URL: 'redisUrl',
  PORTRAITS_NODE_NAME: 'nodeName',
  PORTRAITS_DEBUG_FRAME_LATENT: 'debugFrameLatent',
  PORTRAITS_FRAME_WORKER: 'frameWorker',
  PORTRAITS_WALL: 'wall',
});

export class ConfigError extends Error {}

/** Object-valued keys given as text (environment, flags) arrive as JSON; unparseable text is left for zod to refuse. */
function parseJsonString(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

function readConfigFile(path: string): UserConfig {
  if (!existsSync(path)) throw new ConfigError(`config file ${path} does not exist (set by --config or PORTRAITS_CONFIG)`);
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as UserConfig;
  } catch (err) {
    throw new ConfigError(`config file ${path} is not valid JSON: ${(err as Error).message}`);
  }
}

export function resolveConfig(
  overrides: UserConfig = {},
  env: NodeJS.ProcessEnv = process.env,
  configFile: string | undefined = env.PORTRAITS_CONFIG,
): ResolvedConfig {
  const fromFile = configFile ? readConfigFile(configFile) : {};
  const fromEnv: Record<string, string> = {};
  for (const [name, key] of Object.entries(ENV_KEYS)) {
    const value = env[name];
    if (value !== undefined && value !== '') fromEnv[key] = value;
  }
  const merged = { ...fromFile, ...fromEnv, ...dropUndefined(overrides) };
  const parsed = ConfigSchema.safeParse(merged);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => {
      const key = i.path.join('.');
      const top = String(i.path[0] ?? '');
      const envName = Object.entries(ENV_KEYS).find(([, k]) => k === top)?.[0];
      return `  ${key}: ${i.message}${envName ? ` (set it in the config file, with ${envName}=..., or --${kebab(top)})` : ''}`;
    });
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  return Object.freeze(parsed.data);
}

function dropUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export function kebab(key: string): string {
  return key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
}
