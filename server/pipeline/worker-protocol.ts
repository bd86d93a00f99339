/**
 * The messages between the main thread and the frame worker (server/pipeline/worker.ts).
 * Everything here is plain data (structured clone); pictures and encoded bytes travel as
 * transferred ArrayBuffers, copied first so the worker's stages keep their own buffers.
 */
import type { FrameMeta } from '../../common/frame.js';
import type { Manifest } from '../../common/manifest.js';
import type { PixelBox, Rect, WallScreen } from '../../common/wall.js';
import type { ResolvedConfig } from '../config.js';
import type { PlanarImage } from '../image/planar-image.js';
import type { GeneratorSpec } from '../stages/generate.js';
import type { FrameJob, StateSnapshot } from '../stages/stage.js';
import type { Anchor } from '../wall/walk-anchor.js';

export interface WorkerInit {
  config: ResolvedConfig;
  /** Cluster mode: walk anchors are claimed through the main thread's Redis connection. */
  sharedAnchors: boolean;
}

/** The generator the worker opened (after any fallback to the default model). */
export interface GeneratorInfo {
  id: string;
  file: string;
  spec: GeneratorSpec;
  manifest: Manifest;
  provider: string;
  fallback?: string;
}

export interface JobMessage {
  type: 'job';
  id: number;
  meta: FrameMeta;
  snapshot: StateSnapshot;
  screen?: WallScreen;
}

/** A frame's outcome: the job's outputs, or the failing stage and its message (errors are data). */
export interface ResultMessage {
  type: 'result';
  id: number;
  ok: boolean;
  error?: string;
  stage?: string;
  totalMs: number;
  meta: FrameMeta;
  latent?: Float32Array;
  image?: PlanarImage;
  encoded?: Uint8Array;
  tile?: { rect: Rect; box: PixelBox; pictureSize: number; whole: PlanarImage };
}

export type ToWorker =
  | JobMessage
  | { type: 'anchor'; id: number; shared?: Anchor; error?: string }
  | { type: 'close' };

export type FromWorker =
  | { type: 'ready'; generator: GeneratorInfo }
  /** The models could not be opened; `modelError`: it was a ModelError (a bad or missing model file), which the start reports as such. */
  | { type: 'failed'; error: string; modelError?: boolean }
  | ResultMessage
  | { type: 'loopWrap'; passes: number }
  | { type: 'anchor'; id: number; mine: Anchor }
  | { type: 'closed' };

/** A copy of a typed array in a buffer of its own, safe to transfer. */
function own<T extends Float32Array | Uint8Array>(a: T): T {
  return a.slice() as T;
}

/** The job's outputs as a message, and the buffers to transfer with it. */
export function resultOf(id: number, job: FrameJob, outcome: { ok: boolean; error?: string; stage?: string; totalMs: number }): { message: ResultMessage; transfer: ArrayBuffer[] } {
  const message: ResultMessage = { type: 'result', id, ...outcome, meta: job.meta };
  const transfer: ArrayBuffer[] = [];
  const keep = <T extends Float32Array | Uint8Array>(a: T): T => {
    const copy = own(a);
    transfer.push(copy.buffer as ArrayBuffer);
    return copy;
  };
  if (job.latent) message.latent = keep(job.latent);
  if (job.image) message.image = { width: job.image.width, height: job.image.height, data: keep(job.image.data) };
  if (job.encoded) message.encoded = keep(new Uint8Array(job.encoded.buffer, job.encoded.byteOffset, job.encoded.byteLength));
  if (job.tile) message.tile = { ...job.tile, whole: { ...job.tile.whole, data: keep(job.tile.whole.data) } };
  return { message, transfer };
}

/** Lays a worker's result onto the main thread's job. */
export function applyResult(job: FrameJob, result: ResultMessage): void {
  const timings = { ...job.meta.timings, ...result.meta.timings };
  Object.assign(job.meta, result.meta, { timings });
  if (result.latent) job.latent = result.latent;
  if (result.image) job.image = result.image;
  if (result.encoded) job.encoded = Buffer.from(result.encoded.buffer, result.encoded.byteOffset, result.encoded.byteLength);
  if (result.tile) job.tile = result.tile;
}
