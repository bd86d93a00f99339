/**
 * The layer table: each Keras layer type the converter understands, and its translation.
 * Only types tfjs-layers can load belong here (a TF.js layers model must run in tfjs),
 * and each one is checked against tfjs in test/integration/convert-layers.test.ts.
 */
import { UnsupportedLayerError } from '../errors.js';
import type { KerasLayer } from '../keras-model.js';
import { Activation, ELU, LeakyReLU, ReLU, Softmax } from './activation.js';
import type { LayerConverter } from './context.js';
import { Conv2D, DepthwiseConv2D } from './conv.js';
import { Dense, Identity, MultiplyBeta, Rescaling } from './core.js';
import { Add, Average, Concatenate, Maximum, Minimum, Multiply } from './merge.js';
import { BatchNormalization } from './normalization.js';
import { AveragePooling2D, GlobalAveragePooling2D, GlobalMaxPooling2D, MaxPooling2D } from './pooling.js';
import { Flatten, PixelShuffle, UpSampling2D, ZeroPadding2D } from './spatial.js';

export const LAYERS: Readonly<Record<string, LayerConverter>> = {
  Conv2D,
  DepthwiseConv2D,
  BatchNormalization,
  Activation,
  ReLU,
  LeakyReLU,
  ELU,
  Softmax,
  MaxPooling2D,
  AveragePooling2D,
  GlobalAveragePooling2D,
  GlobalMaxPooling2D,
  Add,
  Multiply,
  Average,
  Maximum,
  Minimum,
  Concatenate,
  UpSampling2D,
  ZeroPadding2D,
  Flatten,
  Dense,
  Rescaling,
  Dropout: Identity,
  GaussianNoise: Identity,
  GaussianDropout: Identity,
  // UpscalerJS' custom layers (ESRGAN "thick"-style models).
  MultiplyBeta,
};

/** Custom layer classes named by a parameter, e.g. PixelShuffle4x. */
const PATTERNS: readonly [RegExp, LayerConverter][] = [[/^PixelShuffle\d+x$/, PixelShuffle]];

export function layerConverter(layer: KerasLayer): LayerConverter {
  const direct = LAYERS[layer.className];
  if (direct) return direct;
  const byPattern = PATTERNS.find(([re]) => re.test(layer.className));
  if (byPattern) return byPattern[1];
  const known = [...Object.keys(LAYERS), 'PixelShuffle<N>x'].join(', ');
  throw new UnsupportedLayerError(layer.className, layer.name, `unsupported layer type '${layer.className}'; the converter handles ${known}`);
}
