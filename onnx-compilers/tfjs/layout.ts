/**
 * NHWC (Keras/TF) to NCHW (ONNX): weight layouts, axis numbers, and TF's 'same' padding.
 */

/** Conv2D kernel [kh, kw, in, out] to ONNX Conv weight [out, in, kh, kw]. */
export function hwioToOihw(k: Float32Array, kh: number, kw: number, cin: number, cout: number): Float32Array {
  const out = new Float32Array(k.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < cin; i++)
        for (let o = 0; o < cout; o++) out[((o * cin + i) * kh + y) * kw + x] = k[((y * kw + x) * cin + i) * cout + o]!;
  return out;
}

/**
 * DepthwiseConv2D kernel [kh, kw, in, multiplier] to a grouped ONNX Conv weight
 * [in * multiplier, 1, kh, kw]: TF numbers output channel c * multiplier + m.
 */
export function depthwiseToOihw(k: Float32Array, kh: number, kw: number, cin: number, mult: number): Float32Array {
  return hwioToOihw(k, kh, kw, cin * mult, 1);
}

/** A Keras axis of an NHWC (or rank-2) tensor as the ONNX axis of its NCHW counterpart. */
export function nchwAxis(axis: number, rank: 2 | 4): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new RangeError(`axis ${axis} out of range for rank ${rank}`);
  return rank === 4 ? [0, 2, 3, 1][a]! : a;
}

export type Padding =
  | { kind: 'explicit'; pads: [number, number, number, number] }
  | { kind: 'same-upper' };

/**
 * TF 'same' pads (k-1)*d in total, the odd one at the end. With stride 1 that is fixed;
 * with a larger stride it depends on the input size (e.g. k3 s2: 0+1 on even sizes, 1+1
 * on odd), which ONNX's auto_pad SAME_UPPER computes at run time the same way.
 */
export function samePadding(kernel: readonly number[], strides: readonly number[], dilation: readonly number[] = [1, 1]): Padding {
  if (strides.some((s) => s !== 1)) return { kind: 'same-upper' };
  const total = kernel.map((k, i) => (k - 1) * (dilation[i] ?? 1));
  const before = total.map((t) => Math.floor(t / 2));
  return { kind: 'explicit', pads: [before[0]!, before[1]!, total[0]! - before[0]!, total[1]! - before[1]!] };
}

/** ONNX attributes for a padding choice (pads are [top, left, bottom, right]). */
export function paddingAttrs(p: Padding): Record<string, string | number[]> {
  return p.kind === 'same-upper' ? { auto_pad: 'SAME_UPPER' } : { pads: p.pads };
}

/** A Keras int-or-pair setting (kernel_size: 3 or [3, 3]) as a pair. */
export function pair(v: unknown, what: string): [number, number] {
  if (typeof v === 'number') return [v, v];
  if (Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number')) return [v[0] as number, v[1] as number];
  throw new TypeError(`${what} is ${JSON.stringify(v)}, expected a number or a pair`);
}
