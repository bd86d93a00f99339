/** A picture between stages and in every image tool: planar RGB (CHW), float32, values in [0, 1]. */
export interface PlanarImage {
  data: Float32Array;
  width: number;
  height: number;
}

/** `v` held to [0, 1], the range of a PlanarImage's values. */
export function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

/** A network's output in `range` (e.g. [-1, 1]) as PlanarImage values: mapped linearly onto [0, 1] and clamped there. */
export function unitFromRange(raw: ArrayLike<number>, [lo, hi]: readonly [number, number]): Float32Array {
  const scale = 1 / (hi - lo);
  const out = new Float32Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = clamp01((raw[i]! - lo) * scale);
  return out;
}
