/**
 * Drawing what a network's objective wants from nothing (lucid's feature visualisation,
 * e.g. an ImageNet class a person can recognise): Adam ascent on a spectrum-parametrised
 * picture (spectrum-image.ts) with ImageNet colour decorrelation, the network shown a
 * randomly shifted, scaled and turned copy at every step (robustness.ts). Unlike the
 * pixel dream (engine.ts) it needs no octaves: the 1/frequency spectrum already lets
 * coarse structure form first, and one long run at full size does the rest.
 */
import { splitmix32 } from '../../common/random.js';
import type { PlanarImage } from '../image/planar-image.js';
import { Adam, ADAM_DEFAULTS } from './adam.js';
import type { GradientNet } from './engine.js';
import { LUCID_ROBUSTNESS, randomMove, Resampling, type RobustnessSettings } from './robustness.js';
import { SpectrumImage } from './spectrum-image.js';

export interface FromNoiseSettings {
  width: number;
  height: number;
  /** Adam steps (lucid: 256-512). */
  steps: number;
  /** Adam's learning rate on the spectrum (lucid: 0.05). */
  learningRate: number;
  /** Seeds the starting spectrum and the random moves, so the same settings draw the same picture. */
  seed: number;
  robustness: RobustnessSettings;
}

export const DEFAULT_FROM_NOISE: Readonly<FromNoiseSettings> = Object.freeze({ width: 224, height: 224, steps: 512, learningRate: 0.05, seed: 0, robustness: LUCID_ROBUSTNESS });

export interface FromNoiseProgress {
  done: number;
  total: number;
  /** The objective on this step's moved picture. */
  objective: number;
}

export async function drawFromNoise(net: GradientNet, settings: FromNoiseSettings, onProgress?: (p: FromNoiseProgress) => void): Promise<PlanarImage> {
  const { width, height, steps, seed } = settings;
  const spectrum = new SpectrumImage(width, height);
  const params = spectrum.randomParams(seed);
  const adam = new Adam(spectrum.size, { ...ADAM_DEFAULTS, learningRate: settings.learningRate });
  // The moves draw from their own stream, so the start does not depend on how many moves came first.
  const random = splitmix32(seed ^ 0x5bd1e995);
  for (let step = 0; step < steps; step++) {
    const picture = spectrum.render(params);
    const move = new Resampling(width, height, randomMove(random, settings.robustness));
    const { objective, grad } = await net.gradient(move.apply(picture));
    adam.ascend(params, spectrum.backward(picture, move.adjoint(grad)));
    onProgress?.({ done: step + 1, total: steps, objective });
  }
  return spectrum.render(params);
}
