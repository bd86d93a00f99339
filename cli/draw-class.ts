/**
 * `portraits dream --from-noise --class NAME`: draws the class from nothing in lucid's
 * manner (server/dream/from-noise.ts) instead of running the pixel dream on noise, which
 * only paints the class's textures as mush. Of the dream flags it takes --size (224 by
 * default, the network's usual input), --iterations (the number of Adam steps, 512 by
 * default), --seed and --jitter (the largest random shift); the octave and step flags
 * belong to the pixel dream and do not apply.
 */
import { DEFAULT_FROM_NOISE, drawFromNoise } from '../server/dream/from-noise.js';
import { DreamNet, type DreamNetSpec } from '../server/dream/net.js';
import { planarToSharp } from '../server/image/planar.js';
import { UsageError } from './command.js';
import { progressBar } from './progress.js';

export interface DrawClassOptions {
  /** Picture side in pixels; undefined: 224, the network's usual input. */
  size: number | undefined;
  /** Adam steps; undefined: the default. */
  steps: number | undefined;
  seed: number;
  /** Largest random shift in pixels; undefined: lucid's. */
  jitter: number | undefined;
  zoomFrames: number;
}

/** Draws `spec`'s class objective (`what` names it for the log) and writes the PNG `out`. */
export async function drawClassFromNoise(spec: DreamNetSpec, what: string, options: DrawClassOptions, out: string): Promise<number> {
  if (options.zoomFrames > 0) throw new UsageError('--zoom-frames dreams on its own frames; it cannot go with --from-noise --class');
  const size = options.size ?? DEFAULT_FROM_NOISE.width;
  const steps = options.steps ?? DEFAULT_FROM_NOISE.steps;
  const robustness = { ...DEFAULT_FROM_NOISE.robustness, jitter: options.jitter ?? DEFAULT_FROM_NOISE.robustness.jitter };
  const net = await DreamNet.open(spec, 'cpu');
  try {
    process.stderr.write(`drawing ${what} from noise: ${steps} Adam steps for a ${size} px picture, ImageNet colours, jitter ${robustness.jitter} px, scale ${robustness.scale.join('-')}, rotation within ${robustness.degrees} degrees\n`);
    const bar = progressBar('draw', steps);
    const picture = await drawFromNoise(net, { ...DEFAULT_FROM_NOISE, width: size, height: size, steps, seed: options.seed, robustness }, (p) => bar.update(p.done, `objective ${p.objective.toFixed(2)}`));
    bar.stop();
    await planarToSharp(picture).png().toFile(out);
    process.stderr.write(`wrote ${out}\n`);
    return 0;
  } finally {
    await net.dispose();
  }
}
