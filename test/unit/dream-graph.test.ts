/**
 * The dream-graph compiler against central finite differences, one small random net per
 * op family plus a mixed deep net, at odd and even sizes, dynamic and fixed image sizes.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { compileDreamGraph, listDreamLayers, type SingleObjective as Objective } from '../../onnx-compilers/dream-graph/index.js';
import { encodeModel, floatTensor } from '../../onnx-compilers/proto.js';
import { floatTensor as runtimeFloat } from '../../server/onnx/runtime.js';
import { gradCheck, NetBuilder, session } from '../support/onnx-nets.js';
import type { ModelProto } from '../../onnx-compilers/proto.js';

const GRAD_TOLERANCE = 1e-3;
const OBJECTIVE_TOLERANCE = 1e-4; // float32 reductions in different orders
const measured: string[] = [];

/**
 * One gradient check; when it misses, a second one at another base point decides. Finite
 * differences across a ReLU / max-pool decision that happens to lie within the step of the
 * base point are off by more than float32 noise allows telling apart; a wrong gradient
 * is wrong at every base point.
 */
async function check(name: string, source: ModelProto, objective: Objective, dims: number[], compile = {}): Promise<void> {
  let r = await gradCheck(source, objective, dims, { compile });
  let note = '';
  if (r.gradError >= GRAD_TOLERANCE) {
    note = ` (first base point ${r.gradError.toExponential(1)}, kink)`;
    r = await gradCheck(source, objective, dims, { compile, seed: 2 });
  }
  measured.push(`${name.padEnd(44)} [${dims.join('x')}]  objective ${r.objectiveError.toExponential(1)}  grad ${r.gradError.toExponential(1)}${note}`);
  expect(r.objectiveError, `${name}: objective`).toBeLessThan(OBJECTIVE_TOLERANCE);
  expect(r.gradError, `${name}: ${JSON.stringify(r.directions)}`).toBeLessThan(GRAD_TOLERANCE);
}

const layer = (tensor: string, channel?: number): Objective => (channel === undefined ? { kind: 'layer', tensor } : { kind: 'layer', tensor, channel });

afterAll(() => {
  console.log(`dream-graph gradient checks (max relative error):\n${measured.join('\n')}`);
});

const SIZES: [number, number][] = [[9, 10], [8, 8], [7, 11]];

describe('Conv', () => {
  function convNet(imageDims?: (number | string)[]) {
    const n = new NetBuilder(11, imageDims);
    const a = n.relu(n.conv(n.image, 4));
    const b = n.conv(a, 6, { k: 5, stride: 2, pad: [2, 1, 0, 2] });
    const c = n.conv(b, 6, { k: 3, dilation: 2, pad: 2, group: 2 });
    const d = n.conv(c, 6, { k: 3, stride: 2, pad: 1, group: 6, bias: false });
    const e = n.conv(d, 4, { k: 1, stride: 2, pad: 0 });
    return { model: n.build([b, c, d, e]), tensors: { b, c, d, e } };
  }
  for (const [h, w] of SIZES) {
    it(`strides, pads, dilations, groups at ${h}x${w}`, async () => {
      const { model, tensors } = convNet();
      for (const [k, t] of Object.entries(tensors)) await check(`conv chain -> ${k}`, model, layer(t), [1, 3, h, w]);
    });
  }
  it('fixed image size (exact output_padding, no crop)', async () => {
    const { model, tensors } = convNet([1, 3, 9, 10]);
    await check('conv chain, fixed 9x10', model, layer(tensors.e), [1, 3, 9, 10]);
  });
  for (const autoPad of ['SAME_UPPER', 'SAME_LOWER', 'VALID']) {
    it(`auto_pad ${autoPad} with stride 2 and an even kernel`, async () => {
      const n = new NetBuilder(12);
      const a = n.conv(n.image, 4, { k: 3, stride: 2, autoPad });
      const b = n.conv(n.lrelu(a), 5, { k: 2, stride: 2, autoPad });
      const m = n.build([b]);
      for (const [h, w] of SIZES) await check(`conv auto_pad ${autoPad}`, m, layer(b), [1, 3, h, w]);
      const fixed = new NetBuilder(12, [1, 3, 9, 10]);
      const fb = fixed.conv(fixed.lrelu(fixed.conv(fixed.image, 4, { k: 3, stride: 2, autoPad })), 5, { k: 2, stride: 2, autoPad });
      await check(`conv auto_pad ${autoPad}, fixed`, fixed.build([fb]), layer(fb), [1, 3, 9, 10]);
    });
  }
  it('a batch of two images gets one objective each', async () => {
    const { model, tensors } = convNet();
    await check('conv chain, batch 2', model, layer(tensors.e), [2, 3, 9, 10]);
  });
});

describe('activations', () => {
  it('LeakyRelu, PRelu, Sigmoid, Tanh, Clip, Max-as-leaky', async () => {
    const n = new NetBuilder(21);
    const a = n.lrelu(n.conv(n.image, 4), 0.1);
    const b = n.op('PRelu', [n.conv(a, 4), n.weight([4, 1, 1], 0.2, 0.1)]);
    const c = n.op('Sigmoid', [n.conv(b, 4)]);
    const d = n.op('Tanh', [n.conv(c, 4)]);
    const lo = n.weight([], 0, -0.3);
    const hi = n.weight([], 0, 0.4);
    const e = n.op('Clip', [n.conv(d, 4), lo, hi]);
    const f0 = n.conv(e, 4);
    const f = n.op('Max', [f0, n.withConst('Mul', f0, [], false)]);
    const m = n.build([a, b, c, d, e, f]);
    for (const [h, w] of SIZES.slice(0, 2)) {
      for (const [k, t] of Object.entries({ a, b, c, d, e, f })) await check(`activation -> ${k}`, m, layer(t), [1, 3, h, w]);
    }
  });
});

describe('pooling', () => {
  const configs: [string, (n: NetBuilder, x: string) => string][] = [
    ['MaxPool 2/2 (unpool)', (n, x) => n.maxPool(x, 2, 2)],
    ['MaxPool 2/2 ceil (unpool)', (n, x) => n.maxPool(x, 2, 2, { ceil: true })],
    ['MaxPool 3/2 pad 1 (overlap)', (n, x) => n.maxPool(x, 3, 2, { pads: [1, 1, 1, 1] })],
    ['MaxPool 3/2 ceil (overlap)', (n, x) => n.maxPool(x, 3, 2, { ceil: true })],
    ['MaxPool 2/1 SAME_UPPER (Darknet)', (n, x) => n.maxPool(x, 2, 1, { autoPad: 'SAME_UPPER' })],
    ['AveragePool 2/2', (n, x) => n.avgPool(x, 2, 2)],
    ['AveragePool 3/1 pad 1 excl', (n, x) => n.avgPool(x, 3, 1, { pads: [1, 1, 1, 1] })],
    ['AveragePool 3/2 pad 1 incl', (n, x) => n.avgPool(x, 3, 2, { pads: [1, 1, 1, 1], countIncludePad: true })],
    ['AveragePool 3/2 pad 1 excl', (n, x) => n.avgPool(x, 3, 2, { pads: [1, 1, 1, 1] })],
    ['GlobalAveragePool', (n, x) => n.op('GlobalAveragePool', [x])],
    ['GlobalMaxPool', (n, x) => n.op('GlobalMaxPool', [x])],
  ];
  for (const [name, pool] of configs) {
    it(name, async () => {
      const n = new NetBuilder(31);
      const p = pool(n, n.conv(n.image, 4));
      const out = n.conv(p, 3, { k: 1, pad: 0 });
      const m = n.build([out]);
      for (const [h, w] of SIZES) await check(name, m, layer(out), [1, 3, h, w]);
    });
  }
});

describe('normalisation and arithmetic', () => {
  it('BatchNormalization, constants, residual and broadcast branches', async () => {
    const n = new NetBuilder(41);
    const a = n.batchNorm(n.conv(n.image, 4));
    const b = n.withConst('Add', a, [1, 4, 1, 1]);
    const c = n.withConst('Mul', b, [4, 1, 1]);
    const d = n.withConst('Sub', c, [1], true);
    const e = n.withConst('Div', d, [4, 1, 1]);
    const res = n.op('Add', [n.relu(n.conv(e, 4)), e]);
    const gate = n.op('Sigmoid', [n.op('GlobalAveragePool', [res])]);
    const se = n.op('Mul', [res, gate]); // both operands depend on the image; gate broadcasts
    const sum = n.op('Sum', [se, res, n.op('Sub', [res, n.op('GlobalAveragePool', [se])])]);
    const m = n.build([a, b, c, d, e, res, se, sum]);
    for (const [h, w] of SIZES.slice(0, 2)) {
      for (const [k, t] of Object.entries({ a, e, res, se, sum })) await check(`arith -> ${k}`, m, layer(t), [1, 3, h, w]);
    }
  });
});

describe('tensor ops', () => {
  it('Concat, Split, Slice, Pad (incl. negative), Reshape, Transpose', async () => {
    const n = new NetBuilder(51);
    const a = n.conv(n.image, 4);
    const b = n.lrelu(n.conv(n.image, 3, { k: 1, pad: 0 }));
    const cat = n.concat([a, b, n.image]);
    const [s1, s2] = n.split(cat, [6, 4]) as [string, string];
    const sl = n.op('Slice', [s1, n.ints([1, 0]), n.ints([-1, 2 ** 40]), n.ints([2, 3])]);
    const padded = n.pad(sl, [0, 0, 2, 1, 0, 0, 1, -1]);
    const flat = n.op('Flatten', [padded], { axis: 1 });
    const back = n.op('Reshape', [flat, n.op('Shape', [padded])]); // shape arithmetic carries no gradient
    const t = n.op('Transpose', [back], { perm: [0, 1, 3, 2] });
    const column = n.op('Slice', [padded, n.ints([0]), n.ints([1]), n.ints([3])]);
    const out = n.op('Mul', [n.op('Transpose', [t], { perm: [0, 1, 3, 2] }), column]); // broadcasts column along W
    const m = n.build([cat, s2, sl, padded, out]);
    for (const [h, w] of SIZES) {
      for (const [k, tt] of Object.entries({ cat, s2, sl, padded, out })) await check(`tensor -> ${k}`, m, layer(tt), [1, 3, h, w]);
    }
  });
  it('Resize nearest by integer factors', async () => {
    const n = new NetBuilder(52);
    const a = n.conv(n.image, 3);
    const up2 = n.resize(a, 2);
    const up3 = n.resize(n.conv(up2, 3), 3, 'half_pixel', 'round_prefer_floor');
    const up2b = n.resize(n.conv(up3, 2, { stride: 2 }), 2, 'pytorch_half_pixel', 'round_prefer_ceil');
    const m = n.build([up2, up3, up2b]);
    for (const [h, w] of SIZES.slice(0, 2)) {
      for (const [k, t] of Object.entries({ up2, up3, up2b })) await check(`resize -> ${k}`, m, layer(t), [1, 3, h, w]);
    }
  });
});

describe('classifier heads (class objective)', () => {
  it('Gemm (transB 0/1, alpha), MatMul, Softmax, LogSoftmax', async () => {
    const n = new NetBuilder(61);
    const f = n.relu(n.conv(n.image, 5));
    const logits = n.head(f, 7, true);
    const logitsT = n.head(f, 7, false);
    // Softmax heads sit on a smooth (Tanh) trunk: no ReLU kinks blur their check.
    const smooth = n.op('Tanh', [n.conv(n.image, 5)]);
    const prob = n.op('Softmax', [n.head(smooth, 7, true)], { axis: 1 });
    const logp = n.op('LogSoftmax', [n.head(smooth, 7, false)], { axis: -1 });
    const flat = n.op('Flatten', [n.op('GlobalAveragePool', [f])]);
    const mm = n.op('MatMul', [flat, n.weight([5, 6], 0.4)]);
    const m = n.build([logits, logitsT, prob, logp, mm]);
    for (const [h, w] of SIZES.slice(0, 2)) {
      await check('class Gemm transB=1', m, { kind: 'class', tensor: logits, index: 3 }, [2, 3, h, w]);
      await check('class Gemm transB=0', m, { kind: 'class', tensor: logitsT, index: 0 }, [1, 3, h, w]);
      await check('class after Softmax', m, { kind: 'class', tensor: prob, index: 6 }, [2, 3, h, w]);
      await check('class after LogSoftmax', m, { kind: 'class', tensor: logp, index: 2 }, [1, 3, h, w]);
      await check('class MatMul', m, { kind: 'class', tensor: mm, index: 5 }, [1, 3, h, w]);
      await check('class Gemm, no pushdown', m, { kind: 'class', tensor: logits, index: 3 }, [1, 3, h, w], { channelPushdown: false });
    }
  });
});

describe('channel objectives', () => {
  function net() {
    const n = new NetBuilder(71);
    const a = n.conv(n.image, 6);
    const b = n.relu(n.batchNorm(a));
    const g = n.conv(b, 6, { group: 3 });
    const dw = n.lrelu(n.conv(g, 6, { group: 6, stride: 2 }));
    const cat = n.concat([dw, n.maxPool(n.conv(b, 2), 2, 2, { ceil: true })]);
    const up = n.resize(n.withConst('Add', cat, [1, 8, 1, 1]), 2);
    return { m: n.build([b, g, dw, cat, up]), t: { b, g, dw, cat, up } };
  }
  it('pushed down into the producing conv, or sliced, with equal results', async () => {
    const { m, t } = net();
    for (const pushdown of [true, false]) {
      for (const [k, tensor, c] of [['b', t.b, 4], ['g', t.g, 3], ['dw', t.dw, 5], ['cat', t.cat, 7], ['up', t.up, 2]] as const) {
        await check(`channel ${c} of ${k}${pushdown ? '' : ' (slice)'}`, m, layer(tensor, c), [1, 3, 9, 10], { channelPushdown: pushdown });
      }
    }
  });
  it('pushdown rebuilds the conv with one output channel', () => {
    const { m, t } = net();
    const compiled = compileDreamGraph(m, layer(t.b, 4));
    const convs = compiled.graph!.node!.filter((x) => x.opType === 'Conv' && !x.name!.startsWith('grad/'));
    expect(convs).toHaveLength(1);
    const w = compiled.graph!.initializer!.find((i) => i.name === convs[0]!.input![1]);
    expect(w?.dims?.map(Number)).toEqual([1, 3, 3, 3]);
  });
});

describe('mixed deep net', () => {
  function mixed(imageDims?: (number | string)[]) {
    const n = new NetBuilder(81, imageDims);
    const c1 = n.lrelu(n.batchNorm(n.conv(n.image, 6)));
    const p1 = n.maxPool(c1, 2, 2);
    const c2 = n.lrelu(n.batchNorm(n.conv(p1, 8, { stride: 1 })));
    const skip = n.conv(p1, 8, { k: 1, pad: 0 });
    const r = n.op('Add', [c2, skip]);
    const down = n.avgPool(r, 2, 2);
    const c3 = n.lrelu(n.conv(n.pad(down, [0, 0, 1, 1, 0, 0, 1, 1]), 8, { pad: 0, stride: 2 }));
    const p3 = n.maxPool(c3, 2, 1, { autoPad: 'SAME_UPPER' });
    const up = n.resize(n.conv(p3, 4, { k: 1, pad: 0 }), 2);
    const routed = n.concat([up, n.op('Slice', [down, n.ints([0, 0]), n.ints([2 ** 40, 2 ** 40]), n.ints([2, 3])])]);
    const c4 = n.lrelu(n.conv(routed, 8, { group: 2 }));
    const logits = n.head(c4, 10);
    return { m: n.build([c1, r, c3, c4, logits]), t: { c1, r, c3, c4, logits } };
  }
  it('layer and class objectives at odd and even sizes, batch 2', async () => {
    const { m, t } = mixed();
    // The x2 Resize meets its Concat partner (at 1/4 size) only when floor(floor(size/2)/2) is even.
    for (const [h, w] of [[17, 19], [16, 16], [35, 9]] as [number, number][]) {
      await check('mixed -> r', m, layer(t.r), [2, 3, h, w]);
      await check('mixed -> c3 channel 5', m, layer(t.c3, 5), [2, 3, h, w]);
      await check('mixed -> c4', m, layer(t.c4), [2, 3, h, w]);
      await check('mixed -> class 4', m, { kind: 'class', tensor: t.logits, index: 4 }, [2, 3, h, w]);
    }
  });
  it('with the activation pattern frozen at the base point: exact differences, tight errors', async () => {
    const { m, t } = mixed();
    for (const [name, objective] of [['r', layer(t.r)], ['c4', layer(t.c4)], ['c3 channel 5', layer(t.c3, 5)], ['class 4', { kind: 'class', tensor: t.logits, index: 4 }]] as const) {
      const r = await gradCheck(m, objective, [2, 3, 17, 19], { freeze: true });
      measured.push(`${`mixed frozen -> ${name}`.padEnd(44)} [2x3x17x19]  objective ${r.objectiveError.toExponential(1)}  grad ${r.gradError.toExponential(1)}`);
      expect(r.gradError, `${name}: ${JSON.stringify(r.directions)}`).toBeLessThan(1e-4);
    }
  });
  it('fixed image size', async () => {
    const { m, t } = mixed([1, 3, 16, 16]);
    await check('mixed fixed 16x16 -> c4', m, layer(t.c4), [1, 3, 16, 16]);
    await check('mixed fixed 16x16 -> class 9', m, { kind: 'class', tensor: t.logits, index: 9 }, [1, 3, 16, 16]);
  });
  it('listDreamLayers names conv/activation tensors with channels and stride', () => {
    const { m, t } = mixed();
    const layers = listDreamLayers(m);
    const byName = new Map(layers.map((l) => [l.tensor, l]));
    expect(byName.get(t.c1)).toMatchObject({ op: 'LeakyRelu', channels: 6, stride: 1, supported: true });
    expect(byName.get(t.r)).toMatchObject({ op: 'Add', channels: 8, stride: 2, supported: true });
    expect(byName.get(t.c3)).toMatchObject({ channels: 8, stride: 8 });
    expect(byName.get(t.c4)).toMatchObject({ channels: 8, stride: 4 });
    expect(byName.has(t.logits)).toBe(false); // [N, 10] is not a feature map
    expect(layers.every((l) => l.supported)).toBe(true);
  });
});

describe('the compiled model', () => {
  it('has one input `image` and outputs `objective` [N] and `grad` like the image', async () => {
    const n = new NetBuilder(91);
    const a = n.conv(n.image, 4, { stride: 2 });
    const compiled = compileDreamGraph(n.build([a]), layer(a));
    const g = compiled.graph!;
    expect(g.input!.map((i) => i.name)).toEqual(['image']);
    expect(g.output!.map((o) => o.name)).toEqual(['objective', 'grad']);
    expect(compiled.opsetImport![0]!.version).toBe(13);
    const s = await session(compiled);
    const out = await s.run({ image: runtimeFloat(new Float32Array(3 * 3 * 21 * 14).fill(0.5), [3, 3, 21, 14]) });
    expect(out['objective']!.dims).toEqual([3]);
    expect(out['grad']!.dims).toEqual([3, 3, 21, 14]);
    await s.release();
  });
  it('keeps only what the objective needs', () => {
    const n = new NetBuilder(92);
    const a = n.relu(n.conv(n.image, 4));
    const deep = n.conv(n.conv(a, 4), 4);
    const compiled = compileDreamGraph(n.build([a, deep]), layer(a));
    const forward = compiled.graph!.node!.filter((x) => x.name!.endsWith('_node')); // NetBuilder's names
    expect(forward.map((x) => x.opType)).toEqual(['Conv', 'Relu']);
    expect(compiled.graph!.initializer!.length).toBeLessThan(10);
  });
  it('renames a source tensor that is already called `grad`', async () => {
    const n = new NetBuilder(93);
    const a = n.conv(n.image, 4);
    const m = n.build([a]);
    m.graph!.node![0]!.output = ['grad'];
    m.graph!.output![0]!.name = 'grad';
    await check('source tensor named grad', m, layer('grad'), [1, 3, 6, 7]);
  });
});

describe('refusals', () => {
  it('names the op and node it cannot differentiate', () => {
    const n = new NetBuilder(101);
    const a = n.op('LRN', [n.conv(n.image, 4)], { size: 3 });
    expect(() => compileDreamGraph(n.build([a]), layer(a))).toThrow(/cannot differentiate op 'LRN' \(node 'lrn\d+_node'\); supported: .*Conv/);
  });
  it('rejects unknown tensors and out-of-range channels', () => {
    const n = new NetBuilder(102);
    const a = n.conv(n.image, 4);
    const m = n.build([a]);
    expect(() => compileDreamGraph(m, layer('nope'))).toThrow(/no tensor named 'nope'/);
    expect(() => compileDreamGraph(m, layer(a, 4))).toThrow(/channel 4 is out of range/);
    expect(() => compileDreamGraph(m, { kind: 'class', tensor: a, index: -1 })).toThrow(/class index -1 is out of range/);
  });
  it('refuses reflect padding and non-integer resizes by name', () => {
    const n = new NetBuilder(103);
    const p = n.op('Pad', [n.conv(n.image, 2), n.ints([0, 0, 1, 1, 0, 0, 1, 1])], { mode: 'reflect' });
    expect(() => compileDreamGraph(n.build([p]), layer(p))).toThrow(/op 'Pad'.*mode 'reflect'/);
    const r = new NetBuilder(104);
    const scales = 'half';
    const x = r.conv(r.image, 2);
    const model = r.build([]);
    model.graph!.initializer!.push(floatTensor(scales, [4], [1, 1, 1.5, 1.5]));
    model.graph!.node!.push({ opType: 'Resize', name: 'up', input: [x, '', scales], output: ['up'], attribute: [] });
    expect(() => compileDreamGraph(model, layer('up'))).toThrow(/op 'Resize' \(node 'up'\).*integer upscaling/);
  });
  it('compiled bytes round-trip through the proto doorway', () => {
    const n = new NetBuilder(105);
    const a = n.conv(n.image, 2);
    expect(encodeModel(compileDreamGraph(n.build([a]), layer(a))).length).toBeGreaterThan(100);
  });
});
