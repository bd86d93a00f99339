/**
 * Laplacian-pyramid normalisation of a dream gradient: the gradient is split into bands
 * an octave apart (each the difference between a level and the blurred, halved level
 * below it, upsampled back), every band is divided by its own RMS, and the bands are
 * summed again. A raw gradient is dominated by its finest band (pixel-level noise that
 * shows as coloured grain and glare); equalised, coarse structure grows as fast as fine.
 * Planar, any number of channels (normalised together), any size.
 */

/** Edge-clamped source indices of the 5 taps around every second pixel of a line of n. */
function taps(n: number): Int32Array {
  const n2 = (n + 1) >> 1;
  const out = new Int32Array(n2 * 5);
  for (let k = 0; k < n2; k++) for (let t = 0; t < 5; t++) out[k * 5 + t] = Math.min(n - 1, Math.max(0, 2 * k + t - 2));
  return out;
}

/** 5-tap binomial blur then every second pixel: a w x h plane to ceil(w/2) x ceil(h/2). */
function down(src: Float32Array, w: number, h: number): { data: Float32Array; width: number; height: number } {
  const w2 = (w + 1) >> 1;
  const h2 = (h + 1) >> 1;
  const tx = taps(w);
  const ty = taps(h);
  const rows = new Float32Array(w2 * h);
  for (let y = 0; y < h; y++) {
    const r = y * w;
    const o = y * w2;
    for (let x2 = 0, t = 0; x2 < w2; x2++, t += 5) {
      rows[o + x2] = (src[r + tx[t]!]! + 4 * src[r + tx[t + 1]!]! + 6 * src[r + tx[t + 2]!]! + 4 * src[r + tx[t + 3]!]! + src[r + tx[t + 4]!]!) * 0.0625;
    }
  }
  const out = new Float32Array(w2 * h2);
  for (let y2 = 0, t = 0; y2 < h2; y2++, t += 5) {
    const r0 = ty[t]! * w2;
    const r1 = ty[t + 1]! * w2;
    const r2 = ty[t + 2]! * w2;
    const r3 = ty[t + 3]! * w2;
    const r4 = ty[t + 4]! * w2;
    const o = y2 * w2;
    for (let x2 = 0; x2 < w2; x2++) {
      out[o + x2] = (rows[r0 + x2]! + 4 * rows[r1 + x2]! + 6 * rows[r2 + x2]! + 4 * rows[r3 + x2]! + rows[r4 + x2]!) * 0.0625;
    }
  }
  return { data: out, width: w2, height: h2 };
}

/** Bilinear upsampling of a `down` result back to w x h (sample k sits at pixel 2k), added to `into` times `sign`. */
function upAdd(src: Float32Array, w2: number, h2: number, w: number, h: number, into: Float32Array, sign: number): void {
  // Even pixels sit on a sample; odd ones halfway between two (the last clamped).
  const x0 = new Int32Array(w);
  const x1 = new Int32Array(w);
  for (let x = 0; x < w; x++) {
    x0[x] = Math.min(x >> 1, w2 - 1);
    x1[x] = x & 1 ? Math.min((x >> 1) + 1, w2 - 1) : x0[x]!;
  }
  const row = new Float32Array(w);
  for (let y = 0; y < h; y++) {
    const ya = Math.min(y >> 1, h2 - 1) * w2;
    const yb = (y & 1 ? Math.min((y >> 1) + 1, h2 - 1) : Math.min(y >> 1, h2 - 1)) * w2;
    for (let x = 0; x < w; x++) row[x] = src[ya + x0[x]!]! + src[ya + x1[x]!]! + src[yb + x0[x]!]! + src[yb + x1[x]!]!;
    const o = y * w;
    const k = 0.25 * sign;
    for (let x = 0; x < w; x++) into[o + x] = into[o + x]! + k * row[x]!;
  }
}

/**
 * `data` (planar, `channels` planes of w x h) split into up to `levels` bands, each scaled
 * to unit RMS, and merged. Returns a new array; levels <= 1 only scales the whole to unit RMS.
 */
export function laplacianNormalise(data: Float32Array, width: number, height: number, channels: number, levels: number): Float32Array {
  const plane = width * height;
  const unit = (bands: Float32Array[]) => {
    let s = 0;
    let n = 0;
    for (const b of bands) {
      for (let i = 0; i < b.length; i++) s += b[i]! * b[i]!;
      n += b.length;
    }
    const rms = Math.sqrt(s / Math.max(n, 1));
    const k = rms > 1e-20 ? 1 / rms : 0;
    for (const b of bands) for (let i = 0; i < b.length; i++) b[i] = b[i]! * k;
  };
  const split = (planes: Float32Array[], w: number, h: number, level: number): Float32Array[] => {
    if (level <= 1 || w < 4 || h < 4) {
      const copy = planes.map((p) => p.slice());
      unit(copy);
      return copy;
    }
    const lows = planes.map((p) => down(p, w, h));
    const w2 = lows[0]!.width;
    const h2 = lows[0]!.height;
    const highs = planes.map((p, c) => {
      const hi = p.slice();
      upAdd(lows[c]!.data, w2, h2, w, h, hi, -1);
      return hi;
    });
    unit(highs);
    const lowMerged = split(lows.map((l) => l.data), w2, h2, level - 1);
    highs.forEach((hi, c) => upAdd(lowMerged[c]!, w2, h2, w, h, hi, 1));
    return highs;
  };
  const planes = Array.from({ length: channels }, (_, c) => data.subarray(c * plane, (c + 1) * plane));
  const merged = split(planes, width, height, levels);
  const out = new Float32Array(data.length);
  merged.forEach((p, c) => out.set(p, c * plane));
  return out;
}
