/** Dense, Rescaling, UpscalerJS' MultiplyBeta, and the layers that do nothing at inference. */
import { activationOf, emitActivation } from './activation.js';
import { LayerConfig, one, type LayerConverter } from './context.js';

export const Dense: LayerConverter = (layer, inputs, ctx) => {
  const c = new LayerConfig(layer);
  const x = one(layer, inputs);
  if (x.rank !== 2) throw c.unsupported('Dense on an image tensor is not supported (Flatten or pool first)');
  const units = c.num('units');
  const g = ctx.graph;
  const w = ctx.weights.get(layer.name, 'kernel', [x.channels, units]).data;
  const bias = c.bool('use_bias', true) ? ctx.weights.get(layer.name, 'bias', [units]).data : new Float32Array(units);
  const activation = activationOf(layer);
  const out = activation === 'linear' ? layer.name : g.fresh(`${layer.name}/preact`);
  // Keras' kernel is [in, out], which is Gemm's B without transposition.
  g.op('Gemm', [x.name, g.floats(`${layer.name}/kernel`, [x.channels, units], w), g.floats(`${layer.name}/bias`, [units], bias)], out);
  const info = { name: out, rank: 2 as const, channels: units };
  return activation === 'linear' ? info : emitActivation(g, layer, activation, info, layer.name);
};

/** y = x * scale + offset with scalar settings (Keras preprocessing). */
export const Rescaling: LayerConverter = (layer, inputs, ctx) => {
  const c = new LayerConfig(layer);
  const x = one(layer, inputs);
  const g = ctx.graph;
  const scaled = g.op('Mul', [x.name, g.floats(`${layer.name}/scale`, [], [c.num('scale')])], g.fresh(`${layer.name}/scaled`));
  g.op('Add', [scaled, g.floats(`${layer.name}/offset`, [], [c.num('offset', 0)])], layer.name);
  return { ...x, name: layer.name };
};

/** UpscalerJS' MultiplyBeta custom layer: the residual scaling of ESRGAN's RRDB blocks, x * 0.2. */
export const MultiplyBeta: LayerConverter = (layer, inputs, ctx) => {
  const x = one(layer, inputs);
  const g = ctx.graph;
  g.op('Mul', [x.name, g.floats(`${layer.name}/beta`, [], [0.2])], layer.name);
  return { ...x, name: layer.name };
};

/** Dropout and noise layers are identities outside training. */
export const Identity: LayerConverter = (layer, inputs) => one(layer, inputs);
