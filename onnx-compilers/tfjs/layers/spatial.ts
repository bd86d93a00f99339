/** Layers that move or repeat pixels: UpSampling2D, ZeroPadding2D, Flatten, pixel shuffle. */
import { mapDim } from '../graph.js';
import { image, LayerConfig, one, type LayerConverter } from './context.js';

export const UpSampling2D: LayerConverter = (layer, inputs, ctx) => {
  const c = new LayerConfig(layer);
  c.channelsLast();
  const x = image(layer, one(layer, inputs));
  const [sh, sw] = c.pair('size', [2, 2]);
  const interpolation = c.str('interpolation', 'nearest');
  // tfjs and Keras disagree on bilinear pixel centres; only nearest is the same everywhere.
  if (interpolation !== 'nearest') throw c.unsupported(`interpolation '${interpolation}' is not supported (nearest only)`);
  const g = ctx.graph;
  // Nearest with integer factors is pixel repetition: source = floor(dst / factor).
  g.op('Resize', [x.name, '', g.floats(`${layer.name}/scales`, [4], [1, 1, sh, sw])], layer.name, {
    mode: 'nearest',
    coordinate_transformation_mode: 'asymmetric',
    nearest_mode: 'floor',
  });
  return { ...x, name: layer.name, h: mapDim(x.h, (t) => `${t}*${sh}`, (n) => n * sh), w: mapDim(x.w, (t) => `${t}*${sw}`, (n) => n * sw) };
};

export const ZeroPadding2D: LayerConverter = (layer, inputs, ctx) => {
  const c = new LayerConfig(layer);
  c.channelsLast();
  const x = image(layer, one(layer, inputs));
  const p = c.raw('padding') ?? 1;
  // Keras accepts 1, [1, 2] (symmetric per axis) or [[top, bottom], [left, right]].
  let tb: [number, number], lr: [number, number];
  if (typeof p === 'number') [tb, lr] = [[p, p], [p, p]];
  else if (Array.isArray(p) && p.length === 2 && p.every((v) => typeof v === 'number')) [tb, lr] = [[p[0] as number, p[0] as number], [p[1] as number, p[1] as number]];
  else if (Array.isArray(p) && p.every((v) => Array.isArray(v))) [tb, lr] = [p[0] as [number, number], p[1] as [number, number]];
  else throw c.unsupported(`padding ${JSON.stringify(p)} is not understood`);
  const g = ctx.graph;
  g.op('Pad', [x.name, g.int64s(`${layer.name}/pads`, [8], [0, 0, tb[0], lr[0], 0, 0, tb[1], lr[1]])], layer.name, { mode: 'constant' });
  const grow = (a: number, b: number) => (d: typeof x.h) => mapDim(d, (t) => `${t}+${a + b}`, (n) => n + a + b);
  return { ...x, name: layer.name, h: grow(...tb)(x.h), w: grow(...lr)(x.w) };
};

export const Flatten: LayerConverter = (layer, inputs, ctx) => {
  const x = one(layer, inputs);
  if (x.rank === 2) return x;
  const xi = image(layer, x);
  if (!/^\d+$/.test(xi.h.text) || !/^\d+$/.test(xi.w.text)) {
    throw new LayerConfig(layer).unsupported('flattening needs a fixed input size, but the model input has a free height/width');
  }
  const g = ctx.graph;
  // Keras flattens NHWC in (h, w, c) order; go back to that order so Dense weights line up.
  const nhwc = g.op('Transpose', [x.name], g.fresh(`${layer.name}/nhwc`), { perm: [0, 2, 3, 1] });
  g.op('Flatten', [nhwc], layer.name, { axis: 1 });
  return { name: layer.name, rank: 2, channels: Number(xi.h.text) * Number(xi.w.text) * x.channels };
};

/**
 * UpscalerJS' PixelShuffle{N}x custom layer is tf.depthToSpace(x, N, 'NHWC'): channel
 * (i * N + j) * C + c goes to offset (i, j) of channel c, which is ONNX DepthToSpace's DCR mode.
 */
export const PixelShuffle: LayerConverter = (layer, inputs, ctx) => {
  const x = image(layer, one(layer, inputs));
  const c = new LayerConfig(layer);
  const m = /^PixelShuffle(\d+)x$/.exec(layer.className);
  const n = m ? Number(m[1]) : NaN;
  if (!(n >= 2)) throw c.unsupported('cannot read the block size from the class name');
  if (x.channels % (n * n) !== 0) throw c.unsupported(`${x.channels} channels do not divide into ${n}x${n} blocks`);
  ctx.graph.op('DepthToSpace', [x.name], layer.name, { blocksize: n, mode: 'DCR' });
  const up = (d: typeof x.h) => mapDim(d, (t) => `${t}*${n}`, (v) => v * n);
  return { ...x, name: layer.name, channels: x.channels / (n * n), h: up(x.h), w: up(x.w) };
};
