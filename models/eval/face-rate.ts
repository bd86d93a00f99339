/**
 * Face rate: the share of images in which a face detector finds a face. The detectors
 * are @vladmandic/face-api's, whose weights ship inside its npm package, run on
 * TensorFlow.js's wasm backend (tfjs-node needs a download at install time).
 *
 * Every image gets the same treatment, generated or real: bilinear upscale to 2x
 * (128 px from 64), then a mid-grey border of half that size on every side. The border
 * matters: UTKFace-style crops fill the frame, and these detectors, trained on photos
 * with context, miss most faces that touch the edges (on 100 real 64 px photos: tiny
 * detector 43% without a border, 96% with it; SSD 9% vs 87%).
 *   --images FILE --size 64 [--detectors tiny,ssd]   -> JSON on stdout
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as faceapi from '@vladmandic/face-api/dist/face-api.node-wasm.js';
import { parseArgs, readRawImages } from './raw-images.js';

const require = createRequire(import.meta.url);
/** face-api's weights, shipped inside its npm package. */
export const FACE_API_MODELS = join(dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
const WASM_DIR = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/';

export const DETECTORS = {
  tiny: { about: 'TinyFaceDetector, input 224, score >= 0.5', net: () => faceapi.nets.tinyFaceDetector, options: () => new faceapi.TinyFaceDetectorOptions({ inputSize: 224, scoreThreshold: 0.5 }) },
  ssd: { about: 'SSD MobileNet v1, min confidence 0.5', net: () => faceapi.nets.ssdMobilenetv1, options: () => new faceapi.SsdMobilenetv1Options({ minConfidence: 0.5 }) },
} as const;
export type DetectorName = keyof typeof DETECTORS;

export interface RateResult {
  detector: string;
  n: number;
  detected: number;
  rate: number;
  /** Mean best detection score over the images with a face. */
  meanScore: number;
}

let ready: Promise<void> | null = null;
/** Starts TensorFlow.js on its wasm backend (once per process). */
export async function initFaceApi(): Promise<void> {
  ready ??= (async () => {
    setWasmPaths(WASM_DIR);
    if (!(await tf.setBackend('wasm'))) throw new Error('the TensorFlow.js wasm backend did not start');
    await tf.ready();
  })();
  return ready;
}

/** Upscale 2x and add the grey border; returns an int32 [H, W, 3] tensor the detectors accept. */
function prepare(pixels: Uint8Array, size: number): tf.Tensor3D {
  return tf.tidy(() => {
    const img = tf.tensor3d(pixels, [size, size, 3], 'int32').toFloat();
    const up = tf.image.resizeBilinear(img, [size * 2, size * 2]);
    return tf.pad(up, [[size, size], [size, size], [0, 0]], 128).round().toInt() as tf.Tensor3D;
  });
}

export async function faceRate(data: Uint8Array, n: number, size: number, name: DetectorName, label = ''): Promise<RateResult> {
  await initFaceApi();
  const d = DETECTORS[name];
  if (!d.net().isLoaded) await d.net().loadFromDisk(FACE_API_MODELS);
  let detected = 0;
  let scoreSum = 0;
  let last = Date.now();
  const per = size * size * 3;
  for (let i = 0; i < n; i++) {
    const input = prepare(data.subarray(i * per, (i + 1) * per), size);
    const found = await faceapi.detectAllFaces(input as unknown as faceapi.TNetInput, d.options());
    input.dispose();
    if (found.length) {
      detected++;
      scoreSum += Math.max(...found.map((f) => f.score));
    }
    if (label && Date.now() - last > 10_000) {
      last = Date.now();
      process.stderr.write(`${label} ${name}: ${i + 1}/${n}, ${detected} faces\n`);
    }
  }
  return { detector: d.about, n, detected, rate: detected / n, meanScore: detected ? scoreSum / detected : 0 };
}

async function main(argv: string[]): Promise<void> {
  const args = parseArgs(argv, ['images', 'size']);
  const size = Number(args.size);
  const images = readRawImages(args.images!, size, size);
  const names = (args.detectors ?? 'tiny,ssd').split(',') as DetectorName[];
  for (const n of names) if (!(n in DETECTORS)) throw new Error(`unknown detector '${n}' (have: ${Object.keys(DETECTORS).join(', ')})`);
  const out: Record<string, RateResult> = {};
  for (const name of names) out[name] = await faceRate(images.data, images.n, size, name, args.label ?? 'faces');
  process.stdout.write(JSON.stringify(out) + '\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).catch((err: Error) => {
    process.stderr.write(`face-rate: ${err.message}\n`);
    process.exitCode = 1;
  });
}
