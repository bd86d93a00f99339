/** Planar float pictures <-> bytes, through sharp (decode, encode, resize). */
import sharp, { type Sharp } from 'sharp';
import { clamp01, type PlanarImage } from './planar-image.js';

/** Decodes any image sharp reads (PNG, JPEG, WebP...) to planar RGB in [0, 1], optionally resized. */
export async function readPlanar(input: string | Buffer, size?: { width: number; height: number }): Promise<PlanarImage> {
  let img = sharp(input).removeAlpha().toColourspace('srgb');
  if (size) img = img.resize(size.width, size.height, { fit: 'cover', kernel: 'lanczos3' });
  const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
  const { width, height, channels } = info;
  const plane = width * height;
  const out = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    out[i] = data[channels * i]! / 255;
    out[plane + i] = data[channels * i + 1]! / 255;
    out[2 * plane + i] = data[channels * i + 2]! / 255;
  }
  return { data: out, width, height };
}

/** Interleaved RGB bytes of a planar picture (values clamped to [0, 1]); reuses `into` when it fits. */
export function toRgbBytes(img: PlanarImage, into?: Uint8Array): Uint8Array {
  const plane = img.width * img.height;
  const px = into && into.length === plane * 3 ? into : new Uint8Array(plane * 3);
  const d = img.data;
  for (let i = 0; i < plane; i++) {
    px[3 * i] = clamp01(d[i]!) * 255 + 0.5;
    px[3 * i + 1] = clamp01(d[plane + i]!) * 255 + 0.5;
    px[3 * i + 2] = clamp01(d[2 * plane + i]!) * 255 + 0.5;
  }
  return px;
}

/** A sharp pipeline over a planar picture, ready for .png() / .jpeg() / .resize(). */
export function planarToSharp(img: PlanarImage, into?: Uint8Array): Sharp {
  return sharp(toRgbBytes(img, into), { raw: { width: img.width, height: img.height, channels: 3 } });
}
