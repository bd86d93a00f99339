/**
 * Milliseconds per DeepDream step on the CPU for every visitor style of a dream network
 * (with --which all, every layer too): the whole step as the live pass and the CLI take it
 * (forward + backward, the gradient into the picture's decorrelated colours and normalised
 * over a Laplacian pyramid, the update, with jitter), and how much of that is the shaping
 * (colour + pyramid) rather than the network.
 *
 *   npx tsx bench/dream.bench.ts [--size 256] [--steps 20] [--model darknet-tiny] [--which styles|all]
 */
import { DEFAULT_STATE } from '../common/state.js';
import os from 'node:os';
import { join } from 'node:path';
import { splitmix32 } from '../common/random.js';
import { ROOT_DIR } from '../server/config.js';
import { pictureBasis } from '../server/dream/colour.js';
import { dreamStep, noiseImage, shapeGradient, type StepShape } from '../server/dream/engine.js';
import { DreamNet } from '../server/dream/net.js';
import { DreamCatalogue } from '../server/dream/styles.js';
import { DEFAULT_DREAM_MODEL, readManifest } from '../server/models/registry.js';
import { measureFlicker } from './support/flicker.js';
import { benchOptions } from './support/options.js';

const { values } = benchOptions(import.meta.url, 'Milliseconds per DeepDream step on the CPU, for every style of a dream network.', {
  size: { default: 256, help: 'picture side, px' },
  steps: { default: 20, help: 'timed steps per style' },
  model: { default: DEFAULT_DREAM_MODEL, help: 'the dream network (a folder in models/)' },
  which: { default: 'styles', help: "'styles' (the curated visitor styles) or 'all' (every layer as well)" },
  flicker: { default: 90, help: 'frames of a live walk for the flicker figures, gentle dream with each carry (0 skips them)' },
  'flicker-strength': { default: 1, help: 'dream strength of the flicker runs' },
  'flicker-speeds': { default: [0.15, 0.6], help: 'walk speeds of the flicker runs (the default walk is 0.15; faster moves the face more per frame)' },
});
const { size, steps } = values;
const dir = join(ROOT_DIR, 'models', values.model);
const manifest = await readManifest(dir);
const catalogue = new DreamCatalogue(values.model, dir, manifest);
const styles = [...catalogue.styles, ...(values.which === 'all' && manifest.dream?.styles?.length ? catalogue.layerNames().map((n) => catalogue.resolve(n)) : [])];

console.log(`dream step bench: ${size}x${size}, ${steps} steps per style, model ${manifest.id}, CPU`);
console.log(`machine: ${os.cpus()[0]?.model ?? '?'} x${os.cpus().length}, node ${process.version}, load average ${os.loadavg()[0]!.toFixed(1)}`);
const base = noiseImage(size, size, 1, 0.2);
const shape: StepShape = { colour: pictureBasis(base), pyramid: 4 };
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const style of styles) {
  const t0 = performance.now();
  const net = await DreamNet.open(style.spec, 'cpu');
  const compileMs = performance.now() - t0;
  const random = splitmix32(1);
  let img = (await dreamStep(net, base, 1.5, 8, random, shape)).image; // warm-up
  const times: number[] = [];
  for (let i = 0; i < steps; i++) {
    const s = performance.now();
    img = (await dreamStep(net, img, 1.5, 8, random, shape)).image;
    times.push(performance.now() - s);
  }
  const { grad } = await net.gradient(img);
  const shaping: number[] = [];
  for (let i = 0; i < Math.min(steps, 10); i++) {
    const s = performance.now();
    shapeGradient(grad.slice(), size, size, shape);
    shaping.push(performance.now() - s);
  }
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  console.log(
    `  ${style.name.padEnd(10)} (${style.kind}): ${mean.toFixed(1)} ms/step mean, p50 ${median(times).toFixed(1)} ms, of which colour + pyramid ${median(shaping).toFixed(1)} ms; compile+load ${compileMs.toFixed(0)} ms`,
  );
  await net.dispose();
}

if (values.flicker > 0) {
  // Live flicker: the same 30 fps walk, gentle dream at the live size, with each way of carrying the dream.
  const frames = values.flicker;
  const dream = { ...DEFAULT_STATE.dream, mode: 'gentle' as const, strength: values['flicker-strength'], style: '', octaves: 2 };
  for (const speed of values['flicker-speeds']) {
    console.log(`\nlive flicker: ${frames} frames of a 30 fps walk (seed 1, speed ${speed}), gentle dream strength ${dream.strength}, model default-face + ${values.model}`);
    console.log('  mean |frame - previous frame| in grey levels (0-255), plain and with the previous frame moved with the face (optical flow between the undreamed portraits); lower is steadier');
    const floor = await measureFlicker({ dreamModel: values.model }, { ...dream, mode: 'off' }, frames, speed);
    console.log(`  no dream (the walk itself)  ${floor.flicker.toFixed(2)}   on the face ${floor.onTheFace.toFixed(2)}`);
    for (const carry of ['off', 'still', 'warped'] as const) {
      const run = await measureFlicker({ dreamModel: values.model, dreamCarry: carry }, dream, frames, speed);
      console.log(`  carry ${carry.padEnd(7)}              ${run.flicker.toFixed(2)}   on the face ${run.onTheFace.toFixed(2)}   (dream stage ${run.dreamMs.toFixed(1)} ms/frame)`);
    }
  }
}
