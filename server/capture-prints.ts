/**
 * The take-home print of a capture: the captured frame (already dreamed and upscaled as the
 * display showed it) enlarged by the ESRGAN stack (server/render/enlarge.ts, the print path's
 * passes and tiles) to `size` px, written beside the capture as `<id>-print.png` with the
 * print metadata. Made in the background, one at a time, after the capture itself is saved:
 * the visitor's phone gets the live frame at once and the print when it is ready (the
 * capture page offers it then). A print that fails is logged and simply not offered.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import type { PlanarImage } from './image/planar-image.js';
import { planarToSharp } from './image/planar.js';
import { logger } from './log.js';
import type { ProviderChoice } from './onnx/runtime.js';
import { openEnlarger, type Enlarger } from './render/enlarge.js';
import type { UpscalerFamily } from './upscale/converted.js';
import { withPrintMetadata } from './upscale/print-metadata.js';

const log = logger('captures');

export interface PrintOptions {
  /** Side of the print, px; 0 makes no prints. */
  size: number;
  family: UpscalerFamily;
  cacheDir: string;
  provider: ProviderChoice;
  model: { id: string; rights: string };
}

export function printFile(dir: string, id: string): string {
  return join(dir, `${id}-print.png`);
}

export class CapturePrints {
  private queue: Promise<unknown> = Promise.resolve();
  /** Enlargers by source size (captures share one frame size, so usually one). */
  private readonly enlargers = new Map<number, Promise<Enlarger>>();
  private closed = false;

  constructor(
    private readonly dir: string,
    private readonly opts: PrintOptions,
  ) {}

  get enabled(): boolean {
    return this.opts.size > 0;
  }

  /** Side of the prints, px (0: none are made). */
  get size(): number {
    return this.opts.size;
  }

  /** Queues the print of capture `id`; resolves once it is written (or has failed and been logged). */
  make(id: string, image: PlanarImage, seed: number): Promise<void> {
    if (!this.enabled) return Promise.resolve();
    const run = this.queue.then(() => this.makeNow(id, image, seed));
    this.queue = run.catch(() => undefined);
    return run.catch((err: Error) => log.warn({ id, err: err.message }, 'the capture print could not be made; the live picture is offered alone'));
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.queue;
    const all = await Promise.allSettled([...this.enlargers.values()]);
    this.enlargers.clear();
    for (const e of all) if (e.status === 'fulfilled') await e.value.dispose();
  }

  private enlarger(from: number): Promise<Enlarger> {
    let e = this.enlargers.get(from);
    if (!e) {
      e = openEnlarger(this.opts.family, from, this.opts.size, { provider: this.opts.provider, cacheDir: this.opts.cacheDir });
      e.catch(() => this.enlargers.delete(from));
      this.enlargers.set(from, e);
    }
    return e;
  }

  private async makeNow(id: string, image: PlanarImage, seed: number): Promise<void> {
    if (this.closed) return;
    const started = performance.now();
    const enlarger = await this.enlarger(image.width);
    const big = await enlarger.enlarge(image);
    let picture = planarToSharp(big);
    const { size } = this.opts;
    if (big.width !== size || big.height !== size) picture = picture.resize(size, size, { fit: 'fill', kernel: 'lanczos3' });
    const info = {
      seed,
      model: this.opts.model.id,
      rights: this.opts.model.rights,
      settings: { capture: id, size, enlarge: enlarger.description },
      software: 'Imaginary Portraits (capture print)',
      created: new Date(),
    };
    const png = await withPrintMetadata(picture, info).png({ compressionLevel: 6 }).toBuffer();
    const file = printFile(this.dir, id);
    try {
      await writeFileAtomic(file, png, { fsync: true });
    } catch (err) {
      await rm(file, { force: true });
      throw err;
    }
    log.info({ id, size, ms: Math.round(performance.now() - started), enlarge: enlarger.description }, 'capture print ready');
  }
}
