/**
 * The offline side of the stack (`portraits render`): one portrait from a seed with the
 * live generator stage, the final resize to exactly the print size, the PNG with its
 * metadata, and the side-by-side comparison picture for the README.
 */
import { join } from 'node:path';
import { contactSheet } from '../render/contact-sheet.js';
import type { KernelEnum } from 'sharp';
import { seedToLatent } from '../../common/latent.js';
import type { Manifest } from '../../common/manifest.js';
import { planarToSharp } from '../image/planar.js';
import { generatorIo, generatorSpec, openFaceModel, readManifest } from '../models/registry.js';
import { ImageOps } from '../dream/image-ops.js';
import { FaceStage } from '../stages/face.js';
import type { ProviderChoice } from '../onnx/runtime.js';
import { ModelSession } from '../onnx/session.js';
import { GenerateStage, type GeneratorSpec } from '../stages/generate.js';
import { fixedSnapshot, newJob, type FrameJob } from '../stages/stage.js';
import type { PlanarImage } from '../image/planar-image.js';
import { withPrintMetadata, type PrintInfo } from './print-metadata.js';

export interface PrintGenerator {
  id: string;
  dir: string;
  manifest: Manifest;
  spec: GeneratorSpec;
  /** The portrait of `seed`, planar RGB in [0, 1] at the generator's resolution. */
  paint(seed: number): Promise<PlanarImage>;
  dispose(): Promise<void>;
}

/** Opens generator `id` from `modelsDir` (no fallback: a print names its model). */
export async function openPrintGenerator(modelsDir: string, id: string, provider: ProviderChoice = 'cpu'): Promise<PrintGenerator> {
  const dir = join(modelsDir, id);
  const manifest = await readManifest(dir);
  const { file, spec } = generatorSpec(manifest);
  const session = await ModelSession.open(join(dir, file), provider, generatorIo(spec));
  // The live pipeline's own stage, so a print of seed 42 is the face the display shows for seed 42.
  const stage = new GenerateStage(session, spec);
  return {
    id,
    dir,
    manifest,
    spec,
    async paint(seed) {
      const job: FrameJob = { ...newJob(0, fixedSnapshot({ mode: 'seed', seed })), latent: seedToLatent(seed, spec.latentSize) };
      job.meta.seeds = [seed, seed];
      await stage.run(job);
      return job.image!;
    },
    dispose: () => stage.dispose(),
  };
}

/** The face stage of a print or batch (server/stages/face.ts, as the live path runs it). */
export interface PrintFace {
  id: string;
  /** The stage's output side for the generator's picture. */
  side: number;
  lift(img: PlanarImage): Promise<PlanarImage>;
  dispose(): Promise<void>;
}

/**
 * The generator's face stage for offline pictures: `choice` '' is its related face model when
 * installed (as the server picks it), 'off' none, else a model id (an error if it is not one).
 */
export async function openPrintFace(modelsDir: string, generator: PrintGenerator, choice: string, provider: ProviderChoice = 'cpu'): Promise<PrintFace | null> {
  const face = await openFaceModel({ modelsDir, faceModel: choice, provider }, generator.manifest);
  if (!face) return null;
  const ops = await ImageOps.create();
  const stage = new FaceStage(face.session, face.spec, face.id, ops);
  const dispose = async () => void (await Promise.allSettled([face.session.release(), ops.dispose()]));
  const side = FaceStage.outputSide(face.spec, generator.spec.resolution);
  if (side === null) {
    await dispose();
    throw new Error(`face stage '${face.id}' does not run on ${generator.id}'s ${generator.spec.resolution} px pictures (its maxInput is ${face.spec.maxInput})`);
  }
  return { id: face.id, side, lift: (img) => stage.picture(img), dispose };
}

/**
 * Resizes to exactly `size` x `size` (Lanczos; the stack ends at or above it) and writes a
 * PNG with the print's metadata and its print resolution (`dpi`, what a print shop reads).
 */
export async function writePrint(img: PlanarImage, size: number, path: string, info: PrintInfo, dpi = 300): Promise<void> {
  let out = planarToSharp(img);
  if (img.width !== size || img.height !== size) out = out.resize(size, size, { fit: 'fill', kernel: 'lanczos3' });
  await withPrintMetadata(out.withDensity(dpi), info).png({ compressionLevel: 6 }).toFile(path);
}

/**
 * Three panels of `panel` px from one small portrait: nearest-neighbour, bicubic, and the
 * ESRGAN stack's result (`upscaled`, resized to the panel if it is not already), labelled.
 */
export async function comparisonPng(small: PlanarImage, upscaled: PlanarImage, panel: number, esrganLabel: string): Promise<Buffer> {
  const fit = (img: PlanarImage, kernel: keyof KernelEnum) =>
    (img.width === panel && img.height === panel ? planarToSharp(img) : planarToSharp(img).resize(panel, panel, { fit: 'fill', kernel })).png().toBuffer();
  return contactSheet(
    [
      { label: `nearest (${small.width} px)`, image: await fit(small, 'nearest') },
      { label: 'bicubic', image: await fit(small, 'cubic') },
      { label: esrganLabel, image: await fit(upscaled, 'lanczos3') },
    ],
    { cell: panel },
  );
}
