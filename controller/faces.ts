/**
 * Faces rendered on the tablet itself: the server's generator file, run by onnxruntime-web
 * on its WebAssembly backend, from latents made by common/latent.ts, so the tablet's face
 * for seed S is the server's face for seed S. Inference runs in a worker (faces-worker.ts),
 * one thread (no SharedArrayBuffer, so no cross-origin isolation headers needed), one batch
 * at a time, so the page keeps answering fingers while the strip and the pad fill in.
 */
import type { Latent } from '../common/latent.js';
import type { TabletSetup } from '../common/protocol.js';
import { DEFAULT_STATE } from '../common/state.js';

/**
 * Thumbnails are drawn at the gallery's default truncation, whatever the live value: they are
 * previews of which face, drawn once and kept, and should not change look with every slider move.
 */
const THUMBNAIL_TRUNCATION = DEFAULT_STATE.face.truncation;

export interface RenderedFace {
  /** The generator's raw output for this face, [3, R, R] planar. */
  raw: Float32Array;
  image: ImageData;
}

type Reply = { id: number; ok: true; data?: Float32Array } | { id: number; ok: false; error: string };

/** The worker, spoken to one request at a time by id. */
class FaceWorker {
  private readonly worker = new Worker(new URL('./faces-worker.ts', import.meta.url), { type: 'module', name: 'faces' });
  private next = 0;
  private readonly pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();

  constructor() {
    this.worker.onmessage = (event: MessageEvent<Reply>) => {
      const waiting = this.pending.get(event.data.id);
      this.pending.delete(event.data.id);
      waiting?.resolve(event.data);
    };
    this.worker.onerror = (event) => {
      const error = new Error(`the face worker failed: ${event.message || 'could not start'}`);
      for (const waiting of this.pending.values()) waiting.reject(error);
      this.pending.clear();
    };
  }

  async call(message: Record<string, unknown>, transfer: Transferable[] = []): Promise<Float32Array | undefined> {
    const id = ++this.next;
    const reply = await new Promise<Reply>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...message, id }, transfer);
    });
    if (!reply.ok) throw new Error(reply.error);
    return reply.data;
  }
}

export class FaceRenderer {
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly worker: FaceWorker,
    private readonly model: TabletSetup['model'],
  ) {}

  static async open(model: TabletSetup['model']): Promise<FaceRenderer> {
    const response = await fetch(model.url);
    if (!response.ok) throw new Error(`could not fetch the face model (${response.status} ${response.statusText})`);
    const bytes = await response.arrayBuffer();
    const worker = new FaceWorker();
    await worker.call({ type: 'open', model: bytes, input: model.input, output: model.output, ...(model.style ? { style: model.style } : {}) }, [bytes]);
    return new FaceRenderer(worker, model);
  }

  get resolution(): number {
    return this.model.resolution;
  }

  get latentSize(): number {
    return this.model.latentSize;
  }

  /** Renders latents in one batch; runs after any render already in progress. */
  render(latents: readonly Latent[]): Promise<RenderedFace[]> {
    const run = this.queue.then(() => this.renderNow(latents));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async renderNow(latents: readonly Latent[]): Promise<RenderedFace[]> {
    if (latents.length === 0) return [];
    const { latentSize: dim, resolution: r } = this.model;
    const batch = new Float32Array(latents.length * dim);
    latents.forEach((z, i) => batch.set(z, i * dim));
    const data = await this.worker.call({ type: 'run', latents: batch, count: latents.length, dim, truncation: THUMBNAIL_TRUNCATION }, [batch.buffer]);
    if (!data) throw new Error('the face worker returned nothing');
    const plane = r * r;
    const faces: RenderedFace[] = [];
    for (let n = 0; n < latents.length; n++) {
      const raw = data.slice(n * 3 * plane, (n + 1) * 3 * plane);
      faces.push({ raw, image: this.toImage(raw) });
    }
    return faces;
  }

  /** Planar output in the model's range -> RGBA pixels. */
  private toImage(raw: Float32Array): ImageData {
    const r = this.model.resolution;
    const [lo, hi] = this.model.range;
    const plane = r * r;
    const pixels = new Uint8ClampedArray(plane * 4);
    const scale = 255 / (hi - lo);
    for (let i = 0; i < plane; i++) {
      pixels[4 * i] = (raw[i]! - lo) * scale;
      pixels[4 * i + 1] = (raw[plane + i]! - lo) * scale;
      pixels[4 * i + 2] = (raw[2 * plane + i]! - lo) * scale;
      pixels[4 * i + 3] = 255;
    }
    return new ImageData(pixels, r, r);
  }
}
