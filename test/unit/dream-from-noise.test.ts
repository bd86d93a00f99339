/**
 * Drawing a class from noise (server/dream/from-noise.ts, lucid's manner): the spectrum
 * parametrisation inverts exactly and its backward pass is the true gradient (central
 * differences), the robustness moves' adjoint is exact (the dot-product test), and on the
 * shipped Darknet tiny a short run draws pictures the network itself calls banana and
 * goldfish, judged on the plain picture with no move. A wrong sign or a wrong adjoint
 * anywhere in the chain leaves the class far from the top.
 */
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { splitmix32 } from '../../common/random.js';
import { ROOT_DIR } from '../../server/config.js';
import { DEFAULT_FROM_NOISE, drawFromNoise } from '../../server/dream/from-noise.js';
import { DreamNet } from '../../server/dream/net.js';
import { LUCID_ROBUSTNESS, randomMove, Resampling } from '../../server/dream/robustness.js';
import { SpectrumImage } from '../../server/dream/spectrum-image.js';
import type { PlanarImage } from '../../server/image/planar-image.js';
import { floatTensor } from '../../server/onnx/runtime.js';
import { ModelSession } from '../../server/onnx/session.js';

const DARKNET = join(ROOT_DIR, 'models', 'darknet-tiny');

function randomPicture(width: number, height: number, seed: number): PlanarImage {
  const random = splitmix32(seed);
  const data = new Float32Array(3 * width * height);
  for (let i = 0; i < data.length; i++) data[i] = 0.05 + 0.9 * random();
  return { data, width, height };
}

function randomVector(n: number, seed: number): Float32Array {
  const random = splitmix32(seed);
  return Float32Array.from({ length: n }, () => random() * 2 - 1);
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};

describe('the spectrum parametrisation', () => {
  it.each([
    [16, 16],
    [12, 10],
  ])('renders fromPicture(p) as p at %ix%i (a power-of-two canvas, and one cropped)', (width, height) => {
    const spectrum = new SpectrumImage(width, height);
    const picture = randomPicture(width, height, 7);
    const back = spectrum.render(spectrum.fromPicture(picture));
    let worst = 0;
    for (let i = 0; i < picture.data.length; i++) worst = Math.max(worst, Math.abs(back.data[i]! - picture.data[i]!));
    expect(worst).toBeLessThan(1e-4);
  });

  it('backward is the gradient of the rendered picture, by central differences', () => {
    const spectrum = new SpectrumImage(8, 6);
    const params = spectrum.randomParams(3, 0.05);
    // The objective: a fixed weighting of the picture's pixels.
    const weights = randomVector(3 * 8 * 6, 11);
    const objective = (p: Float32Array): number => dot(weights, spectrum.render(p).data);
    const grad = spectrum.backward(spectrum.render(params), weights);
    // The picture is float32: a step much smaller drowns in rounding, one much larger in the sigmoid's curvature.
    const h = 1e-2;
    const errors: number[] = [];
    // Random directions (every parameter at once) and single parameters, among them the
    // imaginary parts that render ignores (DC and Nyquist), whose gradient must be 0.
    const directions = [0, 1, 2, 3, 4].map((s) => randomVector(spectrum.size, 100 + s));
    for (const index of [0, 1, 2, 9, 10, spectrum.size - 1]) {
      const d = new Float32Array(spectrum.size);
      d[index] = 1;
      directions.push(d);
    }
    for (const d of directions) {
      const plus = params.map((v, i) => v + h * d[i]!);
      const minus = params.map((v, i) => v - h * d[i]!);
      const numeric = (objective(plus) - objective(minus)) / (2 * h);
      const analytic = dot(grad, d);
      errors.push(Math.abs(numeric - analytic) / Math.max(0.1, Math.abs(numeric)));
    }
    expect(Math.max(...errors)).toBeLessThan(2e-3);
    // The DC imaginary part (index 1) does not move the picture.
    expect(Math.abs(grad[1]!)).toBeLessThan(1e-6);
  });
});

describe('the robustness moves', () => {
  it('carry the gradient back through the exact adjoint of the resampling', () => {
    const random = splitmix32(5);
    for (let trial = 0; trial < 4; trial++) {
      const move = new Resampling(20, 14, randomMove(random, LUCID_ROBUSTNESS));
      const x = randomPicture(20, 14, trial);
      const g = randomVector(3 * 20 * 14, 50 + trial);
      // apply is affine (the grey fill outside); its linear part is apply(x) - apply(0).
      const zero = move.apply({ data: new Float32Array(3 * 20 * 14), width: 20, height: 14 });
      const moved = move.apply(x).data.map((v, i) => v - zero.data[i]!);
      expect(dot(moved, g)).toBeCloseTo(dot(x.data, move.adjoint(g)), 4);
    }
  });

  it('leave the picture alone when there is no move', () => {
    const x = randomPicture(10, 10, 1);
    const same = new Resampling(10, 10, { dx: 0, dy: 0, scale: 1, radians: 0 }).apply(x);
    for (let i = 0; i < x.data.length; i++) expect(same.data[i]).toBeCloseTo(x.data[i]!, 5);
  });
});

describe('drawing a class from noise on Darknet tiny', () => {
  const SIZE = 128;
  const STEPS = 128;
  let labels: string[];
  let classifier: ModelSession;

  beforeAll(async () => {
    labels = (await readFile(join(DARKNET, 'labels.txt'), 'utf8')).split('\n').map((l) => l.trim());
    classifier = await ModelSession.open(join(DARKNET, 'model.onnx'), 'cpu', { inputs: [{ name: 'image' }], outputs: [{ name: 'logits' }] });
  }, 60_000);

  afterAll(async () => {
    await classifier?.release();
  });

  /** The network's five most likely classes for a picture, best first. */
  async function top5(picture: PlanarImage): Promise<string[]> {
    const out = await classifier.run({ image: floatTensor(picture.data, [1, 3, picture.height, picture.width]) });
    const logits = Array.from(out.logits!.data as Float32Array);
    return logits
      .map((v, i) => [v, i] as const)
      .sort((a, b) => b[0] - a[0])
      .slice(0, 5)
      .map(([, i]) => labels[i]!);
  }

  it.each(['banana', 'goldfish'])('draws a %s the network calls one', async (name) => {
    const index = labels.indexOf(name);
    expect(index).toBeGreaterThanOrEqual(0);
    const net = await DreamNet.open({ file: join(DARKNET, 'model.onnx'), input: 'image', range: [0, 1], objective: { kind: 'class', tensor: 'logits', index } }, 'cpu');
    try {
      const noise = randomPicture(SIZE, SIZE, 0);
      expect(await top5(noise)).not.toContain(name);
      const picture = await drawFromNoise(net, { ...DEFAULT_FROM_NOISE, width: SIZE, height: SIZE, steps: STEPS, seed: 1 });
      const top = await top5(picture);
      expect(top[0], `top 5: ${top.join(', ')}`).toBe(name);
    } finally {
      await net.dispose();
    }
  }, 60_000);
});
