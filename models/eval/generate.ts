/**
 * Renders a generator model's faces with onnxruntime, opened as the server opens it
 * (server/onnx/runtime.ts), so the evaluation measures the shipped file and not the
 * training checkpoint. A style generator is fed without truncation (psi 1: the distribution
 * it learned, as Fréchet distances are usually measured) and without mixing.
 *   --model DIR --count N --out FILE          seeds 0..N-1 -> FILE (raw RGB, see raw-images.ts)
 *   [--strip-rows R --strip-steps S --strip-out FILE]
 *       row r walks from seed 2r to seed 2r+1 by slerp in S steps (as the installation's walk does)
 *   [--face DIR]
 *       every face then goes through that face stage model as the live path runs it
 *       (server/stages/face.ts: enlarged to its input size, lifted): the stack's output size
 */
import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { seedToLatent, slerp } from '../../common/latent.js';
import { generatorFeeds } from '../../common/generator-inputs.js';
import { ManifestSchema, type GeneratorInfo } from '../../common/manifest.js';
import { createSession, floatFeeds, type Session } from '../../server/onnx/runtime.js';
import { openFaceModel } from '../../server/models/registry.js';
import { ImageOps } from '../../server/dream/image-ops.js';
import { FaceStage } from '../../server/stages/face.js';
import { fixedSnapshot, newJob } from '../../server/stages/stage.js';
import { nchwToRgb8, parseArgs, writeRawImages, type RawImages } from './raw-images.js';

export async function openGenerator(dir: string): Promise<{ session: Session; info: GeneratorInfo }> {
  const manifest = ManifestSchema.parse(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')));
  if (!manifest.generator) throw new Error(`${dir}/manifest.json describes no generator (kind ${manifest.kind})`);
  const session = await createSession(join(dir, manifest.generator.file), 'cpu', { threads: 2 });
  return { session, info: manifest.generator };
}

/** Runs latents through the generator in batches; returns [N,H,W,3] uint8. */
export async function render(session: Session, info: GeneratorInfo, latents: Float32Array[], label = ''): Promise<Uint8Array> {
  const r = info.resolution;
  const out = new Uint8Array(latents.length * r * r * 3);
  const batch = 50;
  let last = 0;
  for (let start = 0; start < latents.length; start += batch) {
    const chunk = latents.slice(start, start + batch);
    const z = new Float32Array(chunk.length * info.latentSize);
    chunk.forEach((l, i) => z.set(l, i * info.latentSize));
    const feeds = generatorFeeds(info, z, chunk.length, { truncation: 1, mix: 'off', mixSeed: 0 });
    const result = await session.run(floatFeeds(feeds));
    const image = result[info.output]!;
    out.set(nchwToRgb8(image.data as Float32Array, chunk.length, r, r), start * r * r * 3);
    if (label && Date.now() - last > 5000) {
      last = Date.now();
      process.stderr.write(`${label}: ${Math.min(latents.length, start + batch)}/${latents.length}\n`);
    }
  }
  return out;
}

/** The live face stage of the model folder `dir` (any id), and the resampling it enlarges with. */
async function openFace(dir: string, generator: GeneratorInfo): Promise<{ stage: FaceStage; side: number; close: () => Promise<void> }> {
  const manifest = ManifestSchema.parse(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')));
  const face = await openFaceModel({ modelsDir: dirname(dir), faceModel: basename(dir), provider: 'cpu' }, manifest);
  if (!face) throw new Error(`${dir}: no face stage`);
  const side = FaceStage.outputSide(face.spec, generator.resolution);
  if (side === null) throw new Error(`${dir}: the face stage does not run on ${generator.resolution} px pictures (maxInput ${face.spec.maxInput})`);
  const ops = await ImageOps.create();
  const stage = new FaceStage(face.session, face.spec, face.id, ops);
  return { stage, side, close: async () => void (await Promise.allSettled([face.session.release(), ops.dispose()])) };
}

/** Each [r, r] face through the face stage: [N, side, side, 3] uint8. */
async function lift(images: RawImages, face: { stage: FaceStage; side: number }, label = ''): Promise<RawImages> {
  const { n, height: r, width } = images;
  const side = face.side;
  const out = new Uint8Array(n * side * side * 3);
  let last = 0;
  for (let i = 0; i < n; i++) {
    const planar = new Float32Array(3 * r * width);
    for (let p = 0; p < r * width; p++) for (let c = 0; c < 3; c++) planar[c * r * width + p] = images.data[(i * r * width + p) * 3 + c]! / 255;
    const job = newJob(i, fixedSnapshot());
    job.image = { data: planar, width, height: r };
    await face.stage.run(job);
    const img = job.image;
    if (img.width !== side || img.height !== side) throw new Error(`face stage: ${img.width}x${img.height}, expected ${side}x${side}`);
    for (let p = 0; p < side * side; p++) for (let c = 0; c < 3; c++) out[(i * side * side + p) * 3 + c] = Math.round(img.data[c * side * side + p]! * 255);
    if (label && Date.now() - last > 5000) {
      last = Date.now();
      process.stderr.write(`${label}: ${i + 1}/${n}\n`);
    }
  }
  return { n, height: side, width: side, data: out };
}

async function main(argv: string[]): Promise<void> {
  const args = parseArgs(argv, ['model', 'count', 'out']);
  const { session, info } = await openGenerator(args.model!);
  const count = Number(args.count);
  const seeds = Array.from({ length: count }, (_, i) => seedToLatent(i, info.latentSize));
  const r = info.resolution;
  const face = args.face ? await openFace(args.face, info) : null;
  const through = async (images: RawImages, label = ''): Promise<RawImages> => (face ? lift(images, face, label && `${label} (face stage)`) : images);
  writeRawImages(args.out!, await through({ n: count, height: r, width: r, data: await render(session, info, seeds, 'generate') }, 'generate'));
  if (args['strip-out']) {
    const rows = Number(args['strip-rows'] ?? 4);
    const steps = Number(args['strip-steps'] ?? 10);
    const latents: Float32Array[] = [];
    for (let row = 0; row < rows; row++) {
      const a = seedToLatent(2 * row, info.latentSize);
      const b = seedToLatent(2 * row + 1, info.latentSize);
      for (let s = 0; s < steps; s++) latents.push(slerp(a, b, s / (steps - 1)));
    }
    writeRawImages(args['strip-out'], await through({ n: latents.length, height: r, width: r, data: await render(session, info, latents) }));
  }
  await session.release();
  await face?.close();
  process.stdout.write(JSON.stringify({ count, resolution: face ? face.side : r }) + '\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).catch((err: Error) => {
    process.stderr.write(`generate: ${err.message}\n`);
    process.exitCode = 1;
  });
}
