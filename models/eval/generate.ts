/**
 * Renders a generator model's faces with onnxruntime, opened as the server opens it
 * (server/onnx/runtime.ts), so the evaluation measures the shipped file and not the
 * training checkpoint. A style generator is fed without truncation (psi 1: the distribution
 * it learned, as Fréchet distances are usually measured) and without mixing.
 *   --model DIR --count N --out FILE          seeds 0..N-1 -> FILE (raw RGB, see raw-images.ts)
 *   [--strip-rows R --strip-steps S --strip-out FILE]
 *       row r walks from seed 2r to seed 2r+1 by slerp in S steps (as the installation's walk does)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { seedToLatent, slerp } from '../../common/latent.js';
import { generatorFeeds } from '../../common/generator-inputs.js';
import { ManifestSchema, type GeneratorInfo } from '../../common/manifest.js';
import { createSession, floatTensor, type Session } from '../../server/onnx/runtime.js';
import { nchwToRgb8, parseArgs, writeRawImages } from './raw-images.js';

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
    const result = await session.run(Object.fromEntries(feeds.map((f) => [f.name, floatTensor(f.data, f.dims)])));
    const image = result[info.output]!;
    out.set(nchwToRgb8(image.data as Float32Array, chunk.length, r, r), start * r * r * 3);
    if (label && Date.now() - last > 5000) {
      last = Date.now();
      process.stderr.write(`${label}: ${Math.min(latents.length, start + batch)}/${latents.length}\n`);
    }
  }
  return out;
}

async function main(argv: string[]): Promise<void> {
  const args = parseArgs(argv, ['model', 'count', 'out']);
  const { session, info } = await openGenerator(args.model!);
  const count = Number(args.count);
  const seeds = Array.from({ length: count }, (_, i) => seedToLatent(i, info.latentSize));
  const r = info.resolution;
  writeRawImages(args.out!, { n: count, height: r, width: r, data: await render(session, info, seeds, 'generate') });
  if (args['strip-out']) {
    const rows = Number(args['strip-rows'] ?? 4);
    const steps = Number(args['strip-steps'] ?? 10);
    const latents: Float32Array[] = [];
    for (let row = 0; row < rows; row++) {
      const a = seedToLatent(2 * row, info.latentSize);
      const b = seedToLatent(2 * row + 1, info.latentSize);
      for (let s = 0; s < steps; s++) latents.push(slerp(a, b, s / (steps - 1)));
    }
    writeRawImages(args['strip-out'], { n: latents.length, height: r, width: r, data: await render(session, info, latents) });
  }
  await session.release();
  process.stdout.write(JSON.stringify({ count, resolution: r }) + '\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).catch((err: Error) => {
    process.stderr.write(`generate: ${err.message}\n`);
    process.exitCode = 1;
  });
}
