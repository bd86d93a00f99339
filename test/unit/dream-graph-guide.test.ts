/**
 * The guided dream objective (onnx-compilers/dream-graph/objective.ts, kind 'guide'): the
 * compiled graph's objective equals the notebook's definition computed here in float64
 * (each image position's best dot product with the guide's positions, averaged over
 * C*H*W), and its gradient matches central finite differences (the objective is a maximum
 * of linear functions of the features, so its gradient is exact away from ties).
 */
import { describe, expect, it } from 'vitest';
import { gaussian } from '../../common/random.js';
import { compileDreamGraph } from '../../onnx-compilers/dream-graph/index.js';
import { floatTensor as runtimeFloat } from '../../server/onnx/runtime.js';
import { NetBuilder, session, withOutputs } from '../support/onnx-nets.js';

function net() {
  const n = new NetBuilder(91);
  const f = n.lrelu(n.conv(n.lrelu(n.conv(n.image, 6)), 5, { stride: 2 }));
  return { model: n.build([f]), tensor: f };
}

/** The notebook's guided objective from the features [1, C, H, W] and the guide's [C, G]. */
function reference(features: Float32Array, c: number, hw: number, guide: Float32Array, g: number): number {
  let total = 0;
  for (let p = 0; p < hw; p++) {
    let best = -Infinity;
    for (let k = 0; k < g; k++) {
      let dot = 0;
      for (let ch = 0; ch < c; ch++) dot += features[ch * hw + p]! * guide[ch * g + k]!;
      best = Math.max(best, dot);
    }
    total += best;
  }
  return total / (c * hw);
}

describe('guided dream objective', () => {
  it('matches the notebook definition and finite differences', async () => {
    const { model, tensor } = net();
    const compiled = compileDreamGraph(model, { kind: 'guide', tensor });
    expect(compiled.graph!.input!.map((i) => i.name)).toEqual(['image', 'guide']);
    const dreamed = await session(compiled);
    const original = await session(withOutputs(model, [tensor]));
    const dims = [1, 3, 12, 10];
    const size = dims.reduce((a, b) => a * b, 1);
    // The guide's features: those of another picture, as the live pass computes them.
    const guideOut = await original.run({ image: runtimeFloat(gaussian(7, 3 * 14 * 14), [1, 3, 14, 14]) });
    const gt = guideOut[tensor]!;
    const [c, gh, gw] = [Number(gt.dims[1]), Number(gt.dims[2]), Number(gt.dims[3])];
    const guide = new Float32Array(gt.data as Float32Array);
    const guideTensor = runtimeFloat(guide, [c, gh * gw]);

    const objectiveAt = async (x: Float32Array) => {
      const out = await original.run({ image: runtimeFloat(x, dims) });
      const t = out[tensor]!;
      return reference(t.data as Float32Array, c, Number(t.dims[2]) * Number(t.dims[3]), guide, gh * gw);
    };
    const x = gaussian(3, size);
    const out = await dreamed.run({ image: runtimeFloat(x, dims), guide: guideTensor });
    const value = (out['objective']!.data as Float32Array)[0]!;
    const grad = out['grad']!.data as Float32Array;
    const expected = await objectiveAt(x);
    expect(Math.abs(value - expected) / Math.abs(expected)).toBeLessThan(1e-4);
    expect(value).toBeGreaterThan(0);

    // Directional derivatives: along the gradient and two random directions.
    const norm = (v: Float32Array) => Math.sqrt(v.reduce((a, b) => a + b * b, 0));
    const directions = [grad, gaussian(11, size), gaussian(12, size)].map((v) => v.map((e) => e / norm(v)));
    for (const d of directions) {
      const eps = 1e-3;
      const plus = await objectiveAt(x.map((e, i) => e + eps * d[i]!));
      const minus = await objectiveAt(x.map((e, i) => e - eps * d[i]!));
      const numeric = (plus - minus) / (2 * eps);
      const analytic = d.reduce((a, e, i) => a + e * grad[i]!, 0);
      expect(Math.abs(numeric - analytic), `numeric ${numeric} vs analytic ${analytic}`).toBeLessThan(2e-3 * Math.max(Math.abs(analytic), norm(grad)));
    }
  });

  it('refuses a feature vector instead of a feature map', () => {
    const n = new NetBuilder(92);
    const flat = n.op('Flatten', [n.op('GlobalAveragePool', [n.conv(n.image, 4)])]);
    expect(() => compileDreamGraph(n.build([flat]), { kind: 'guide', tensor: flat })).toThrow(/feature map/);
  });
});
