/**
 * The frame's path, in order, in two parts: making the frame (state snapshot -> bytes) and
 * delivering it (sockets, recorder). Optional passes slot in as `cond ? stage : null` and the
 * list is filtered, so adding or reordering a pass is one line here.
 */
import type { ResolvedConfig } from '../config.js';
import type { DisplayHub } from '../displays.js';
import type { ModelSession } from '../onnx/session.js';
import type { ImageOps } from '../dream/image-ops.js';
import type { DreamLibrary } from '../dream/library.js';
import { DreamStage } from './dream.js';
import { FaceStage } from './face.js';
import type { FaceStage as FaceSpec } from '../../common/manifest.js';
import { EncodeStage } from './encode.js';
import { GenerateStage, type GeneratorSpec } from './generate.js';
import { LatentStage, type LatentStageOptions } from './latent.js';
import { RecordStage, type FrameTap } from './record.js';
import { SendStage } from './send.js';
import { UpscaleStage } from './upscale.js';
import { TileCropStage } from './tile-crop.js';
import { TileFitStage } from './tile-fit.js';
import { WallLatentStage } from './wall-latent.js';
import type { AnchorStore } from '../wall/anchor-sync.js';
import { need, newJob, type FrameJob, type Stage } from './stage.js';
import { seedToLatent } from '../../common/latent.js';
import type { PlanarImage } from '../image/planar-image.js';

export interface MakeDeps {
  config: ResolvedConfig;
  generator: { session: ModelSession; spec: GeneratorSpec };
  /** Dream styles and image resampling; without styles the dream pass is left out. */
  dream: { library: DreamLibrary; ops: ImageOps };
  /** The face stage's model (server/models/registry.ts openFaceModel); absent leaves the stage out. */
  face?: { id: string; spec: FaceSpec; session: ModelSession };
  clock?: () => number;
  /** The keyframe loop started a new pass (see LatentStageOptions.onLoopWrap). */
  onLoopWrap?: (passes: number) => void;
  /** The semantic directions and the latent-in-metadata switch (see LatentStageOptions). */
  latent?: Pick<LatentStageOptions, 'directions' | 'exposeLatent'>;
  /** Cluster mode: the walk anchors video walls share through Redis. */
  wallAnchors?: AnchorStore;
}

export interface DeliverDeps {
  displays: DisplayHub;
  /** The live recorder (server/recording/), tapped after send; absent leaves the record stage out. */
  recorder?: FrameTap;
}

/**
 * The work of a frame, from the job's state snapshot to encoded bytes: what the frame
 * worker (server/pipeline/worker.ts) runs off the main thread.
 */
export function buildMakeStages(deps: MakeDeps): Stage[] {
  const { config, generator } = deps;
  // Video walls (common/wall.ts, docs/cluster.md): the latent from the cluster-time slot; tiles cut before upscaling.
  const wall = config.wall;
  const tile = wall.layout === 'tile';
  const onLoopWrap = deps.onLoopWrap ? { onLoopWrap: deps.onLoopWrap } : {};
  const generate = new GenerateStage(generator.session, generator.spec);
  // Guided dreams toward a seed: that seed's portrait, made by this chain's own generator with the frame's face settings.
  const portrait = async (seed: number, job: FrameJob): Promise<PlanarImage> => {
    const guideJob = newJob(0, job.snapshot);
    guideJob.latent = seedToLatent(seed, generator.spec.latentSize);
    await generate.run(guideJob);
    return need(guideJob, 'image', 'guide portrait');
  };
  const guides = { folders: { capturesDir: config.capturesDir, guidesDir: config.guidesDir }, portrait };
  const stages: (Stage | null)[] = [
    wall.layout === 'single'
      ? new LatentStage({ dim: generator.spec.latentSize, ...(deps.clock ? { clock: deps.clock } : {}), ...onLoopWrap, ...deps.latent })
      : new WallLatentStage({ dim: generator.spec.latentSize, wall, periodMs: 1000 / config.fps, ...onLoopWrap, ...deps.latent, ...(deps.wallAnchors ? { anchors: deps.wallAnchors } : {}) }),
    generate,
    deps.dream.library.catalogue ? new DreamStage(deps.dream.ops, deps.dream.library, { size: config.dreamSize, carry: config.dreamCarry, guides, pictureKey: (job) => (wall.layout === 'gallery' ? (job.screen?.name ?? '') : '') }) : null,
    deps.face ? new FaceStage(deps.face.session, deps.face.spec, deps.face.id, deps.dream.ops) : null,
    tile ? new TileCropStage(wall) : null,
    upscaleStage(config, (deps.face && FaceStage.outputSide(deps.face.spec, generator.spec.resolution)) ?? generator.spec.resolution),
    tile ? new TileFitStage(config.frameSize) : null,
    new EncodeStage({ size: config.frameSize, quality: config.jpegQuality }),
  ];
  return stages.filter((s): s is Stage => s !== null);
}

/** The frame's delivery, on the main thread beside the sockets: send, then the recorder's tap. */
export function buildDeliverStages(deps: DeliverDeps): Stage[] {
  return [new SendStage(deps.displays), ...(deps.recorder ? [new RecordStage(deps.recorder)] : [])];
}

/** The whole path in one thread (config.frameWorker false, tests, benches). */
export function buildChain(deps: MakeDeps & DeliverDeps): Stage[] {
  return [...buildMakeStages(deps), ...buildDeliverStages(deps)];
}

/** The ESRGAN passes, unless config.upscaler is 'off'. */
function upscaleStage(config: ResolvedConfig, generatorSize: number): UpscaleStage | null {
  const family = config.upscaler;
  if (family === 'off') return null;
  return new UpscaleStage({
    family,
    cacheDir: config.upscaleCacheDir,
    provider: config.provider,
    fps: config.fps,
    budget: config.upscaleBudget,
    frameSize: config.frameSize,
    measureSize: generatorSize,
  });
}
