/**
 * Milliseconds per DeepDream step (forward + backward + normalised update, with jitter)
 * at 256x256 on the CPU, for every style of the default dream network.
 *
 *   npx tsx bench/dream.bench.ts [--size 256] [--steps 20] [--model default-face-critic]
 */
import os from 'node:os';
import { join } from 'node:path';
import { splitmix32 } from '../common/random.js';
import { ROOT_DIR } from '../server/config.js';
import { dreamStep, noiseImage } from '../server/dream/engine.js';
import { DreamNet } from '../server/dream/net.js';
import { dreamSpec, readManifest } from '../server/models/registry.js';
import { benchOptions } from './support/options.js';

const { values } = benchOptions(import.meta.url, 'Milliseconds per DeepDream step on the CPU, for every style of a dream network.', {
  size: { default: 256, help: 'picture side, px' },
  steps: { default: 20, help: 'timed steps per style' },
  model: { default: 'default-face-critic', help: 'the dream network (a folder in models/)' },
});
const { size, steps } = values;
const dir = join(ROOT_DIR, 'models', values.model);
const manifest = await readManifest(dir);

console.log(`dream step bench: ${size}x${size}, ${steps} steps per style, model ${manifest.id}, CPU`);
console.log(`machine: ${os.cpus()[0]?.model ?? '?'} x${os.cpus().length}, node ${process.version}`);
for (const layer of manifest.dream?.layers ?? []) {
  const t0 = performance.now();
  const net = await DreamNet.open(dreamSpec(dir, manifest, layer.tensor), 'cpu');
  const compileMs = performance.now() - t0;
  const random = splitmix32(1);
  let img = noiseImage(size, size, 1);
  img = (await dreamStep(net, img, 1.5, 8, random)).image; // warm-up
  const times: number[] = [];
  for (let i = 0; i < steps; i++) {
    const s = performance.now();
    img = (await dreamStep(net, img, 1.5, 8, random)).image;
    times.push(performance.now() - s);
  }
  times.sort((a, b) => a - b);
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  console.log(`  ${layer.name.padEnd(10)} (${layer.tensor}): ${mean.toFixed(1)} ms/step mean, p50 ${times[Math.floor(times.length / 2)]!.toFixed(1)} ms, compile+load ${compileMs.toFixed(0)} ms`);
  await net.dispose();
}
