/**
 * The deterministic renderer behind `portraits video`: seeds -> latents -> generate ->
 * optional dream (gentle, or the endless zoom) -> enlarge -> RGB frames. Time is the
 * frame index, never the wall clock, and every random choice is seeded, so the same
 * arguments give the same frames on every run. The live stages themselves do the work
 * (GenerateStage, DreamStage), so a render shows what the installation would show in
 * the same state.
 */
import sharp from 'sharp';
import { join } from 'node:path';
import { loopAt, seedToLatent, slerp, smoothstep, type Latent } from '../../common/latent.js';
import type { LiveState } from '../../common/state.js';
import { resolveConfig, type ResolvedConfig } from '../config.js';
import { ImageOps } from '../dream/image-ops.js';
import { DreamLibrary } from '../dream/library.js';
import { DisplayPixels } from '../image/display-pixels.js';
import { DEFAULT_DREAM_MODEL, dreamCatalogue, generatorSpec, readManifest } from '../models/registry.js';
import type { ProviderChoice } from '../onnx/runtime.js';
import { ModelSession } from '../onnx/session.js';
import { DreamStage } from '../stages/dream.js';
import { GenerateStage } from '../stages/generate.js';
import { fixedSnapshot, newJob, type FrameJob, type StateSnapshot } from '../stages/stage.js';
import type { PlanarImage } from '../image/planar-image.js';
import { openEnlarger, type Enlarger, type UpscaleChoice } from './enlarge.js';

export interface MorphSpec {
  /** Keyframe seeds, in order; one seed holds a single face (useful with a dream zoom). */
  seeds: readonly number[];
  seconds: number;
  fps: number;
  /** Side of the square output frames. */
  size: number;
  /** Return to the first seed at the end, so the video loops seamlessly (the live 'loop' mode with period = seconds). */
  loop: boolean;
  /** The live dream pass, frame by frame; omitted = no dreaming. */
  dream?: LiveState['dream'] & { size: number };
  upscale: UpscaleChoice;
}

export interface RenderModels {
  modelsDir: string;
  model: string;
  /** The dream network by id; '' = the generator's related critic. */
  dreamModel: string;
  provider: ProviderChoice;
  /** Where converted upscalers are cached (as the server's upscaleCacheDir). */
  upscaleCacheDir?: string;
}

export function frameCount(spec: Pick<MorphSpec, 'seconds' | 'fps'>): number {
  return Math.max(1, Math.round(spec.seconds * spec.fps));
}

/**
 * The latent of frame `i` of `frames`. A loop is exactly the live keyframe loop at time
 * i / fps with period = seconds, so the frame after the last is the first again. Without
 * a loop the morph runs from the first seed to the last, both shown exactly, with the
 * loop's smoothstep easing (each keyframe held for an instant).
 */
export function morphLatent(spec: Pick<MorphSpec, 'seeds' | 'seconds' | 'fps' | 'loop'>, i: number, dim: number): Latent {
  const { seeds } = spec;
  if (seeds.length === 0) throw new Error('a morph needs at least one seed');
  if (seeds.length === 1) return seedToLatent(seeds[0]!, dim);
  if (spec.loop) return loopAt(seeds, spec.seconds, i / spec.fps, dim).latent;
  const frames = frameCount(spec);
  const phase = frames === 1 ? 0 : (i / (frames - 1)) * (seeds.length - 1);
  const k = Math.min(Math.floor(phase), seeds.length - 2);
  return slerp(seedToLatent(seeds[k]!, dim), seedToLatent(seeds[k + 1]!, dim), smoothstep(phase - k));
}

export interface RenderedFrame {
  index: number;
  /** Interleaved RGB, size x size x 3. */
  rgb: Buffer;
}

export class OfflineRenderer {
  private constructor(
    readonly spec: MorphSpec,
    readonly generatorId: string,
    private readonly dim: number,
    private readonly generate: GenerateStage,
    private readonly dream: DreamStage | null,
    private readonly state: StateSnapshot,
    private readonly enlarger: Enlarger,
    /** The live encode stage's resize-to-bytes graph, so a render and the live stream agree pixel for pixel. */
    private readonly pixels: DisplayPixels,
    private readonly closers: (() => Promise<unknown>)[],
  ) {}

  static async open(models: RenderModels, spec: MorphSpec, onNote: (note: string) => void = () => {}): Promise<OfflineRenderer> {
    // Only the arguments decide the frames: no config file and no environment here.
    const config: ResolvedConfig = resolveConfig(
      { modelsDir: models.modelsDir, model: models.model, dreamModel: models.dreamModel, provider: models.provider, ...(models.upscaleCacheDir ? { upscaleCacheDir: models.upscaleCacheDir } : {}) },
      {},
      undefined,
    );
    const dir = join(config.modelsDir, config.model);
    const manifest = await readManifest(dir);
    const { file, spec: gen } = generatorSpec(manifest);
    const closers: (() => Promise<unknown>)[] = [];
    const session = await ModelSession.open(join(dir, file), config.provider, {
      inputs: [{ name: gen.input, dims: [null, gen.latentSize] }],
      outputs: [{ name: gen.output, dims: [null, 3, gen.resolution, gen.resolution] }],
    });
    closers.push(() => session.release());
    try {
      let dream: DreamStage | null = null;
      // The state every frame's job carries: the dream settings of the spec, the defaults otherwise.
      let state = fixedSnapshot();
      let produced = gen.resolution;
      if (spec.dream && spec.dream.mode !== 'off') {
        const library = new DreamLibrary(await dreamCatalogue(config, manifest), config.provider);
        closers.push(() => library.dispose());
        if (!library.catalogue) throw new Error(`dreaming needs a dream network: models/${DEFAULT_DREAM_MODEL} is missing and model '${config.model}' names no related critic; pass --dream-model ID`);
        // The live pass skips frames while its network compiles; a render waits for it.
        await library.ready(spec.dream.style);
        const ops = await ImageOps.create();
        closers.push(() => ops.dispose());
        const { size, ...settings } = spec.dream;
        dream = new DreamStage(ops, library, { size });
        state = fixedSnapshot({ dream: settings });
        produced = size;
      }
      const enlarger = await openEnlarger(spec.upscale, produced, spec.size, { provider: config.provider, cacheDir: config.upscaleCacheDir }, onNote);
      closers.push(() => enlarger.dispose());
      const pixels = await DisplayPixels.create();
      closers.push(() => pixels.dispose());
      return new OfflineRenderer(spec, config.model, gen.latentSize, new GenerateStage(session, gen), dream, state, enlarger, pixels, closers);
    } catch (err) {
      await Promise.allSettled(closers.reverse().map((c) => c()));
      throw err;
    }
  }

  get frames(): number {
    return frameCount(this.spec);
  }

  /** What the enlarge step does, for the progress line and the log ("esrgan-slim x4+x4, then resize"). */
  get enlargeDescription(): string {
    return this.enlarger.description;
  }

  /** The frames in order (the dream pass carries state from frame to frame, so order matters). */
  async *render(): AsyncGenerator<RenderedFrame> {
    for (let i = 0; i < this.frames; i++) {
      const job: FrameJob = { ...newJob(i, this.state, 0), latent: morphLatent(this.spec, i, this.dim) };
      job.meta.mode = 'render';
      await this.generate.run(job);
      if (this.dream) await this.dream.run(job);
      const image = await this.enlarger.enlarge(job.image!);
      const { data } = await this.pixels.rgb(image, this.spec.size, this.spec.size);
      yield { index: i, rgb: Buffer.from(data.buffer, data.byteOffset, data.byteLength) };
    }
  }

  async dispose(): Promise<void> {
    const closers = this.closers.splice(0).reverse();
    for (const close of closers) await close().catch(() => {});
  }
}
