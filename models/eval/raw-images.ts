/**
 * The hand-off format between the Python evaluator and the Node scripts: a bare file of
 * uint8 RGB pixels, [N, H, W, 3] row-major (numpy's `arr.tofile`), with H and W passed
 * alongside. No header to parse; the length check catches a wrong size.
 */
import { readFileSync, writeFileSync } from 'node:fs';

export interface RawImages {
  n: number;
  height: number;
  width: number;
  data: Uint8Array;
}

export function readRawImages(path: string, height: number, width: number): RawImages {
  const buf = readFileSync(path);
  const per = height * width * 3;
  if (buf.length === 0 || buf.length % per !== 0) {
    throw new Error(`${path}: ${buf.length} bytes is not a whole number of ${width}x${height} RGB images`);
  }
  return { n: buf.length / per, height, width, data: new Uint8Array(buf.buffer, buf.byteOffset, buf.length) };
}

export function writeRawImages(path: string, images: RawImages): void {
  writeFileSync(path, images.data);
}

/** [N,3,H,W] floats in [-1,1] -> [N,H,W,3] uint8, rounded as models/tools/plots.py to_uint8 does. */
export function nchwToRgb8(data: Float32Array, n: number, height: number, width: number): Uint8Array {
  const out = new Uint8Array(n * height * width * 3);
  const plane = height * width;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) {
      const src = (i * 3 + c) * plane;
      for (let p = 0; p < plane; p++) {
        const v = Math.min(1, Math.max(-1, data[src + p]!));
        out[(i * plane + p) * 3 + c] = Math.round((v + 1) * 127.5);
      }
    }
  }
  return out;
}

/** Minimal `--key value` parsing for these scripts, which Python drives with fixed arguments. */
export function parseArgs(argv: readonly string[], required: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i]!;
    if (!key.startsWith('--') || i + 1 >= argv.length) throw new Error(`bad argument '${key}'`);
    out[key.slice(2)] = argv[i + 1]!;
  }
  for (const r of required) if (!(r in out)) throw new Error(`--${r} is required`);
  return out;
}
