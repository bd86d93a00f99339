/**
 * Captures: a visitor saves the portrait on screen and fetches it on their phone.
 * Each capture is `<id>.png` (the frame at the display's size, before JPEG) and `<id>.json`
 * (seeds, latent, settings, model and its licence, and that the image is AI-generated).
 * Ids are `YYYYMMDD-HHMMSS-xxxxxx`; nothing else is ever read from the folder, so a request
 * can name no other file. Writes are crash-safe (temp file, fsync, rename, then the folder
 * is synced), the PNG first, so a sidecar never points at a missing picture; the oldest
 * captures are removed beyond `keep`.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import type { FrameMeta } from '../common/frame.js';
import type { Manifest } from '../common/manifest.js';
import type { LiveState } from '../common/state.js';
import { planarToSharp } from './image/planar.js';
import { printFile, type CapturePrints } from './capture-prints.js';
import { logger } from './log.js';
import type { FrameJob } from './stages/stage.js';
import type { PlanarImage } from './image/planar-image.js';

const log = logger('captures');

export const CAPTURE_ID = /^\d{8}-\d{6}-[0-9a-f]{6}$/;
/** write-file-atomic's temporary file for a capture: the final name plus "." and a number. */
const INTERRUPTED_WRITE = /^(\d{8}-\d{6}-[0-9a-f]{6})(-print)?\.(png|json)\.\d+$/;

/**
 * A power cut or kill -9 mid-save leaves write-file-atomic's temporary file behind (the
 * capture itself is then simply absent, never torn). At start nothing is being written, so
 * every such file is a leftover: remove them, or months of outages would slowly fill the disk.
 */
async function removeInterruptedWrites(dir: string): Promise<void> {
  const leftovers = (await readdir(dir)).filter((name) => INTERRUPTED_WRITE.test(name));
  for (const name of leftovers) await rm(join(dir, name), { force: true });
  if (leftovers.length) log.info({ dir, removed: leftovers.length }, 'removed temporary files of interrupted capture writes');
}
/** How long a capture waits for the next frame before saying nothing is being shown. */
const FRAME_WAIT_MS = 3000;
export const AI_NOTICE = 'AI-generated image: this person does not exist. Made by the Imaginary Portraits installation.';

export interface CaptureOptions {
  /** At most this many captures are kept; older ones are deleted. */
  keep: number;
  /** Pictures smaller than this (px, square) are enlarged to it, as the display shows them. */
  size: number;
  model: Pick<Manifest, 'id' | 'name' | 'licence'>;
  /** Makes each capture's large print in the background (server/capture-prints.ts); absent: none. */
  prints?: CapturePrints;
}

interface Grab {
  image: PlanarImage;
  meta: FrameMeta;
  latent: number[];
}

export interface Sidecar {
  id: string;
  created: string;
  aiGenerated: true;
  notice: string;
  image: string;
  model: CaptureOptions['model'];
  frame: Pick<FrameMeta, 'frame' | 'mode' | 'seeds' | 't' | 'stateVersion'> & { width: number; height: number };
  latent: number[];
  settings: Pick<LiveState, 'mode' | 'seed' | 'walk' | 'plane' | 'glide' | 'directions' | 'dream'>;
}

function stamp(date: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(date.getUTCFullYear(), 4)}${p(date.getUTCMonth() + 1)}${p(date.getUTCDate())}-${p(date.getUTCHours())}${p(date.getUTCMinutes())}${p(date.getUTCSeconds())}`;
}

export class Captures {
  private waiting: ((grab: Grab) => void)[] = [];
  /** Saves run one at a time: a burst of taps cannot pile up PNG encodes. */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly dir: string,
    private readonly opts: CaptureOptions,
  ) {}

  static async open(dir: string, opts: CaptureOptions): Promise<Captures> {
    await mkdir(dir, { recursive: true });
    await removeInterruptedWrites(dir);
    return new Captures(dir, opts);
  }

  /**
   * The frame loop calls this after every frame. Only when a capture is waiting is the
   * picture copied (later stages may reuse their buffers for the next frame).
   */
  offer(job: FrameJob): void {
    if (this.waiting.length === 0 || !job.image || !job.latent) return;
    const grab: Grab = { image: { ...job.image, data: job.image.data.slice() }, meta: structuredClone(job.meta), latent: Array.from(job.latent) };
    const waiting = this.waiting;
    this.waiting = [];
    for (const resolve of waiting) resolve(grab);
  }

  /** Saves the next frame with the live state it was made from; resolves to the capture id. */
  save(state: Readonly<LiveState>): Promise<string> {
    const run = this.queue.then(() => this.saveNow(state));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** The path of a capture file ('print': the large print), or null when the id is not a capture id. */
  file(id: string, ext: 'png' | 'json' | 'print'): string | null {
    if (!CAPTURE_ID.test(id)) return null;
    return ext === 'print' ? printFile(this.dir, id) : join(this.dir, `${id}.${ext}`);
  }

  /** Whether captures get a large print (it may still be in the making for a new one). */
  get printSize(): number {
    return this.opts.prints?.size ?? 0;
  }

  /** Resolves when every print queued so far is written (tests, shutdown). */
  async close(): Promise<void> {
    await this.opts.prints?.close();
  }

  private nextFrame(): Promise<Grab> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = this.waiting.filter((w) => w !== done);
        reject(new Error('no portrait is being shown right now (is a display connected?)'));
      }, FRAME_WAIT_MS);
      const done = (grab: Grab) => {
        clearTimeout(timer);
        resolve(grab);
      };
      this.waiting.push(done);
    });
  }

  private async saveNow(state: Readonly<LiveState>): Promise<string> {
    const grab = await this.nextFrame();
    const now = new Date();
    const id = `${stamp(now)}-${randomBytes(3).toString('hex')}`;
    let picture = planarToSharp(grab.image);
    const side = Math.max(this.opts.size, grab.image.width);
    if (grab.image.width !== side || grab.image.height !== side) picture = picture.resize(side, side, { fit: 'fill', kernel: 'lanczos3' });
    const png = await picture.png({ compressionLevel: 6 }).toBuffer();
    const sidecar: Sidecar = {
      id,
      created: now.toISOString(),
      aiGenerated: true,
      notice: AI_NOTICE,
      image: `${id}.png`,
      model: { id: this.opts.model.id, ...(this.opts.model.name ? { name: this.opts.model.name } : {}), licence: this.opts.model.licence },
      frame: { frame: grab.meta.frame, mode: grab.meta.mode, seeds: grab.meta.seeds, t: grab.meta.t, stateVersion: grab.meta.stateVersion, width: side, height: side },
      latent: grab.latent,
      settings: { mode: state.mode, seed: state.seed, walk: state.walk, plane: state.plane, glide: state.glide, directions: state.directions, dream: state.dream },
    };
    await writeFileAtomic(join(this.dir, `${id}.png`), png, { fsync: true });
    await writeFileAtomic(join(this.dir, `${id}.json`), JSON.stringify(sidecar, null, 2) + '\n', { fsync: true });
    await this.syncFolder();
    log.info({ id, bytes: png.length }, 'portrait captured');
    // The print follows in the background: the visitor's phone does not wait for it.
    void this.opts.prints?.make(id, grab.image, grab.meta.seeds[0]);
    await this.prune().catch((err: Error) => log.warn({ err: err.message }, 'could not remove old captures'));
    return id;
  }

  /** A rename is durable only once the folder entry is on disk. */
  private async syncFolder(): Promise<void> {
    const folder = await open(this.dir, 'r');
    try {
      await folder.sync();
    } finally {
      await folder.close();
    }
  }

  private async prune(): Promise<void> {
    const ids = [...new Set((await readdir(this.dir)).map((n) => n.replace(/(-print)?\.(png|json)$/, '')).filter((n) => CAPTURE_ID.test(n)))].sort();
    const extra = ids.length - this.opts.keep;
    for (const id of ids.slice(0, Math.max(0, extra))) {
      await rm(join(this.dir, `${id}.json`), { force: true });
      await rm(join(this.dir, `${id}.png`), { force: true });
      await rm(printFile(this.dir, id), { force: true });
    }
  }
}
