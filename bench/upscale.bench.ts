/**
 * Milliseconds per stage at live size: the generator, each ESRGAN pass at the sizes the
 * live path feeds it (the generator's 64 px, the dream's 128 px), and the encoder from
 * each size to the display size; then what upscale mode 'auto' would pick at the frame
 * rate target with those figures (frame period x budget - generate - encode).
 *
 *   npx tsx bench/upscale.bench.ts [--runs 10] [--fps 30] [--frame-size 256] [--dream-size 128] [--families esrgan-slim,esrgan-medium]
 *
 * Medians over --runs after one warm-up run each; a figure, not a test. Load matters:
 * the machine's load average is printed with the figures.
 */
import os from 'node:os';
import { join } from 'node:path';
import { ROOT_DIR, resolveConfig } from '../server/config.js';
import { EncodeStage } from '../server/stages/encode.js';
import { fixedSnapshot, type FrameJob } from '../server/stages/stage.js';
import type { PlanarImage } from '../server/image/planar-image.js';
import { UPSCALER_FAMILIES, type UpscaleFactor, type UpscalerFamily } from '../server/upscale/converted.js';
import { choosePlan, PassCosts, planName } from '../server/upscale/plan.js';
import { openPrintGenerator } from '../server/upscale/print.js';
import { Upscaler } from '../server/upscale/upscaler.js';
import { benchOptions } from './support/options.js';

const { values } = benchOptions(import.meta.url, 'Milliseconds per stage at live size (generate, each ESRGAN pass, encode) and the plan upscale mode auto would pick.', {
  runs: { default: 10, help: 'timed runs per figure (the median is shown)' },
  fps: { default: 30, help: 'the frame rate target' },
  'frame-size': { default: 256, help: 'display size, px' },
  'dream-size': { default: 128, help: "the dream pass's picture side, px" },
  families: { default: [...UPSCALER_FAMILIES], help: 'upscaler families to time' },
});
const { runs, fps } = values;
const frameSize = values['frame-size'];
const dreamSize = values['dream-size'];
const families = values.families as UpscalerFamily[];
const config = resolveConfig({ upscaleCacheDir: join(ROOT_DIR, 'models/.converted') });

async function median(fn: () => Promise<unknown>): Promise<number> {
  await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

const rows: [string, number][] = [];
const row = (name: string, ms: number) => {
  rows.push([name, ms]);
  console.log(`${name.padEnd(34)} ${ms.toFixed(1).padStart(8)} ms`);
};

console.log(`upscale bench: median of ${runs} runs; display ${frameSize} px, target ${fps} fps (${(1000 / fps).toFixed(1)} ms per frame)`);
console.log(`machine: ${os.cpus()[0]?.model ?? '?'} x${os.cpus().length}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}, node ${process.version}`);

const generator = await openPrintGenerator(config.modelsDir, config.model, config.provider);
const small = await generator.paint(42);
const generateMs = await median(() => generator.paint(42));
row(`generate ${config.model} (${small.width} px)`, generateMs);

const encode = new EncodeStage({ size: frameSize, quality: config.jpegQuality });
const job = (image: PlanarImage): FrameJob => ({
  image,
  snapshot: fixedSnapshot(),
  meta: { frame: 0, serverTime: 0, stateVersion: 0, mode: 'seed', seeds: [42, 42], t: 0, width: image.width, height: image.height, format: 'jpeg', timings: {} },
});
const encodeAt = async (img: PlanarImage) => median(() => encode.run(job(img)));
const encodeMs = new Map<number, number>();
const resized = (side: number): PlanarImage => ({ data: new Float32Array(3 * side * side).fill(0.5), width: side, height: side });
for (const side of [...new Set([small.width, dreamSize, frameSize])]) {
  const ms = await encodeAt(side === small.width ? small : resized(side));
  encodeMs.set(side, ms);
  row(`encode ${side} -> ${frameSize} px JPEG`, ms);
}

const sides = [...new Set([small.width, dreamSize])];
for (const family of families) {
  // One cost table per input size, calibrated at that size (what the live stage learns as it runs).
  const costs = new Map(sides.map((side) => [side, new PassCosts()]));
  for (const f of [2, 4] as UpscaleFactor[]) {
    const { upscaler } = await Upscaler.load(family, f, config.provider, { cacheDir: config.upscaleCacheDir });
    try {
      for (const side of sides) {
        const img = side === small.width ? small : resized(side);
        const ms = await median(() => upscaler.run(img));
        costs.get(side)!.calibrate(f, side * side, ms);
        row(`${family} x${f} at ${side} px (-> ${side * f})`, ms);
      }
    } finally {
      await upscaler.dispose();
    }
  }
  for (const side of sides) {
    // Other stages: generate and encode (the dream's own time comes on top when it is on).
    const otherMs = generateMs + (encodeMs.get(frameSize) ?? 0);
    const choice = choosePlan(costs.get(side)!, { size: side, target: frameSize, fps, share: config.upscaleBudget, otherMs, current: null });
    console.log(`auto, ${family}, ${side} px in: ${choice.reason}`);
  }
}
await generator.dispose();
process.exit(0);
