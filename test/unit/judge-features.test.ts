/**
 * The judge's Node side without Python or third-party data: the feature graph that
 * models/eval/features.ts builds around a classifier (input transform in front, pooled
 * layer at the end) checked against the classifier's own activations on a small random
 * net, and the both-eyes rules of models/eval/eyes.ts on drawn eyes.
 */
import { describe, expect, it } from 'vitest';
import { buildFeatureModel, extractFeatures } from '../../models/eval/features.js';
import { bothEyes, measureEye, type Point } from '../../models/eval/eyes.js';
import { decodeModel } from '../../onnx-compilers/proto.js';
import { createSession, floatTensor } from '../../server/onnx/runtime.js';
import { NetBuilder, session, withOutputs } from '../support/onnx-nets.js';

/** A small classifier from NCHW 'image' in [0, 1]: conv, LeakyReLU ('feat' = its output), pool, head. */
function tinyClassifier() {
  const b = new NetBuilder(5);
  const feat = b.lrelu(b.conv(b.image, 6), 0.1);
  const logits = b.head(b.maxPool(b.conv(feat, 8), 2, 2), 4);
  return { model: b.build([logits]), feat };
}

function randomPixels(n: number, h: number, w: number, seed: number): Uint8Array {
  const out = new Uint8Array(n * h * w * 3);
  let s = seed;
  for (let i = 0; i < out.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

/** Mean over space of `tensor` computed by the classifier itself on [N, H, W, 3] pixels. */
async function referenceFeatures(model: ReturnType<typeof tinyClassifier>['model'], tensor: string, pixels: Uint8Array, n: number, size: number): Promise<Float32Array> {
  const s = await session(withOutputs(model, [tensor]));
  const nchw = new Float32Array(n * 3 * size * size);
  for (let i = 0; i < n; i++)
    for (let p = 0; p < size * size; p++)
      for (let c = 0; c < 3; c++) nchw[((i * 3 + c) * size * size) + p] = pixels[(i * size * size + p) * 3 + c]! / 255;
  const t = (await s.run({ image: floatTensor(nchw, [n, 3, size, size]) }))[tensor]!;
  const [, ch, h, w] = t.dims.map(Number) as [number, number, number, number];
  const data = t.data as Float32Array;
  const out = new Float32Array(n * ch);
  for (let i = 0; i < n * ch; i++) {
    let sum = 0;
    for (let p = 0; p < h * w; p++) sum += data[i * h * w + p]!;
    out[i] = sum / (h * w);
  }
  await s.release();
  return out;
}

describe('feature graph', () => {
  it('at the image size, equals the classifier layer averaged over space', async () => {
    const { model, feat } = tinyClassifier();
    const pixels = randomPixels(3, 16, 16, 1);
    const expected = await referenceFeatures(model, feat, pixels, 3, 16);
    for (const input of [0, 16]) {
      // input 16 on 16 px images: the bilinear resize to the same size must be the identity.
      const s = await createSession(buildFeatureModel(model, { layer: feat, input }), 'cpu', { threads: 1 });
      const { features, dims } = await extractFeatures(s, pixels, 3, 16, 16, '', 2);
      expect(dims).toBe(6);
      for (let i = 0; i < expected.length; i++) expect(features[i]).toBeCloseTo(expected[i]!, 5);
      await s.release();
    }
  });

  it('resizes to the network input first: a flat image gives the same features at any size', async () => {
    const { model, feat } = tinyClassifier();
    const flat = (size: number) => new Uint8Array(size * size * 3).map((_, i) => [200, 90, 30][i % 3]!);
    const s = await createSession(buildFeatureModel(model, { layer: feat, input: 24 }), 'cpu', { threads: 1 });
    const a = await extractFeatures(s, flat(8), 1, 8, 8);
    const b = await extractFeatures(s, flat(40), 1, 40, 40);
    const ref = await referenceFeatures(model, feat, flat(24), 1, 24);
    for (let i = 0; i < 6; i++) {
      expect(a.features[i]).toBeCloseTo(ref[i]!, 5);
      expect(b.features[i]).toBeCloseTo(ref[i]!, 5);
    }
    await s.release();
  });

  it('keeps only what the layer needs and refuses a layer the model lacks', () => {
    const { model, feat } = tinyClassifier();
    const built = decodeModel(buildFeatureModel(model, { layer: feat }));
    const ops = built.graph!.node!.map((n) => n.opType);
    expect(ops).not.toContain('Gemm');
    expect(ops).not.toContain('MaxPool');
    expect(ops).toContain('Resize');
    expect(built.graph!.output!.map((o) => o.name)).toEqual(['features']);
    expect(built.graph!.input!.map((i) => i.name)).toEqual(['pixels']);
    expect(() => buildFeatureModel(model, { layer: 'no_such_tensor' })).toThrow(/no tensor 'no_such_tensor'/);
  });
});

describe('both-eyes rules', () => {
  const S = 64;
  /** Six landmark points of an eye centred at (cx, cy), width w, opening h (corners at 0 and 3). */
  const eye = (cx: number, cy: number, w: number, h: number): Point[] => [
    { x: cx - w / 2, y: cy }, { x: cx - w / 6, y: cy - h / 2 }, { x: cx + w / 6, y: cy - h / 2 },
    { x: cx + w / 2, y: cy }, { x: cx + w / 6, y: cy + h / 2 }, { x: cx - w / 6, y: cy + h / 2 },
  ];
  /** Skin-coloured image with a dark iris at each given centre. */
  const face = (irises: Point[]) => {
    const px = new Uint8Array(S * S * 3);
    for (let y = 0; y < S; y++)
      for (let x = 0; x < S; x++) {
        const dark = irises.some((c) => Math.hypot(x - c.x, y - c.y) < 2.5);
        px.set(dark ? [30, 20, 15] : [210, 170, 140], (y * S + x) * 3);
      }
    return px;
  };
  const box = 48;

  it('counts two open, contrasted, level eyes', () => {
    const L = { x: 22, y: 26 };
    const R = { x: 42, y: 26 };
    const px = face([L, R]);
    const left = measureEye(eye(L.x, L.y, 10, 4), px, S, box);
    const right = measureEye(eye(R.x, R.y, 10, 4), px, S, box);
    expect(left.aspect).toBeCloseTo(0.4, 5);
    expect(left.width).toBeCloseTo(10 / 48, 5);
    expect(left.contrast).toBeGreaterThan(0.5);
    expect(bothEyes(left, right, box)).toBe(true);
  });

  it('rejects a smear of skin, a closed eye, lopsided or swapped eyes, and an eye outside the image', () => {
    const L = { x: 22, y: 26 };
    const R = { x: 42, y: 26 };
    const px = face([L, R]);
    const ok = measureEye(eye(L.x, L.y, 10, 4), px, S, box);
    const right = measureEye(eye(R.x, R.y, 10, 4), px, S, box);
    const smear = measureEye(eye(R.x, R.y, 10, 4), face([L]), S, box);
    expect(smear.contrast).toBe(0);
    expect(bothEyes(ok, smear, box)).toBe(false);
    expect(bothEyes(ok, measureEye(eye(R.x, R.y, 10, 0.5), px, S, box), box)).toBe(false);
    expect(bothEyes(ok, measureEye(eye(R.x, R.y, 20, 8), px, S, box), box)).toBe(false);
    const low = { x: R.x, y: R.y + 14 };
    expect(bothEyes(ok, measureEye(eye(low.x, low.y, 10, 4), face([L, low]), S, box), box)).toBe(false);
    expect(bothEyes(right, ok, box)).toBe(false);
    expect(measureEye(eye(62, 26, 10, 4), px, S, box).inside).toBe(false);
  });
});
