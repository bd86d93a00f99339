/**
 * Opens what making a frame needs (generator session, dream networks, image ops) and the
 * stages that use it: the same code in the frame worker and, with config.frameWorker off,
 * in the main thread.
 */
import type { ResolvedConfig } from '../config.js';
import { ImageOps } from '../dream/image-ops.js';
import { DreamLibrary } from '../dream/library.js';
import { dreamCatalogue, openFaceModel, openGenerator } from '../models/registry.js';
import { buildMakeStages } from '../stages/index.js';
import type { Stage } from '../stages/stage.js';
import { directionVectors } from '../visitors.js';
import type { AnchorStore } from '../wall/anchor-sync.js';
import { disposeChain, initChain } from './chain.js';
import type { GeneratorInfo } from './worker-protocol.js';

export interface MakeHooks {
  onLoopWrap?: (passes: number) => void;
  wallAnchors?: AnchorStore;
  /** The latent stage's clock (benches drive time frame by frame); default the wall clock. */
  clock?: () => number;
}

export interface OpenedMakeStages {
  generator: GeneratorInfo;
  stages: Stage[];
  close(): Promise<void>;
}

export async function openMakeStages(config: ResolvedConfig, hooks: MakeHooks = {}): Promise<OpenedMakeStages> {
  const generator = await openGenerator(config);
  const closers: (() => Promise<unknown>)[] = [() => generator.session.release()];
  try {
    const library = new DreamLibrary(await dreamCatalogue(config, generator.manifest), config.provider);
    closers.push(() => library.dispose());
    const ops = await ImageOps.create();
    closers.push(() => ops.dispose());
    const face = await openFaceModel(config, generator.manifest);
    if (face) closers.push(() => face.session.release());
    const stages = buildMakeStages({
      config,
      generator,
      dream: { library, ops },
      ...(face ? { face } : {}),
      latent: { directions: directionVectors(generator.manifest), exposeLatent: config.debugFrameLatent },
      ...(hooks.onLoopWrap ? { onLoopWrap: hooks.onLoopWrap } : {}),
      ...(hooks.wallAnchors ? { wallAnchors: hooks.wallAnchors } : {}),
      ...(hooks.clock ? { clock: hooks.clock } : {}),
    });
    closers.unshift(() => disposeChain(stages));
    await initChain(stages);
    const { session } = generator;
    return {
      generator: { id: generator.id, file: generator.file, spec: generator.spec, manifest: generator.manifest, provider: session.provider, ...(session.fallback ? { fallback: session.fallback } : {}) },
      stages,
      close: () => closeAll(closers),
    };
  } catch (err) {
    await closeAll(closers);
    throw err;
  }
}

async function closeAll(closers: (() => Promise<unknown>)[]): Promise<void> {
  for (const close of closers.splice(0)) await close().catch(() => {});
}
