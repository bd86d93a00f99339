/**
 * Faces rendered on the tablet itself: the server's generator file, run by onnxruntime-web
 * on its WebAssembly backend, from latents made by common/latent.ts, so the tablet's face
 * for seed S is the server's face for seed S. One thread (no SharedArrayBuffer, so no
 * cross-origin isolation headers needed), and one inference at a time, in small batches,
 * so the page stays responsive while the strip and the pad fill in.
 */
import * as ort from 'onnxruntime-web/wasm';
import type { Latent } from '../common/latent.js';
import type { TabletSetup } from '../common/protocol.js';

export interface RenderedFace {
  /** The generator's raw output for this face, [3, R, R] planar. */
  raw: Float32Array;
  image: ImageData;
}

export class FaceRenderer {
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly model: TabletSetup['model'],
  ) {}

  static async open(model: TabletSetup['model']): Promise<FaceRenderer> {
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.proxy = false;
    const response = await fetch(model.url);
    if (!response.ok) throw new Error(`could not fetch the face model (${response.status} ${response.statusText})`);
    const bytes = new Uint8Array(await response.arrayBuffer());
    const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
    return new FaceRenderer(session, model);
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
    const { latentSize: dim, resolution: r, input, output } = this.model;
    const batch = new Float32Array(latents.length * dim);
    latents.forEach((z, i) => batch.set(z, i * dim));
    const feeds = { [input]: new ort.Tensor('float32', batch, [latents.length, dim]) };
    const result = await this.session.run(feeds);
    const tensor = result[output];
    if (!tensor) throw new Error(`the face model has no output '${output}'`);
    const data = tensor.data as Float32Array;
    const plane = r * r;
    const faces: RenderedFace[] = [];
    for (let n = 0; n < latents.length; n++) {
      const raw = data.slice(n * 3 * plane, (n + 1) * 3 * plane);
      faces.push({ raw, image: this.toImage(raw) });
    }
    tensor.dispose();
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
