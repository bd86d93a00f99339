/**
 * The encode stage's two ways from a generated picture (planar floats, 64x64) to a
 * display-size JPEG, side by side in one run: the old one (a JavaScript loop to bytes, then
 * libvips' Lanczos enlargement and JPEG encode) and the one the server uses
 * (server/image/display-pixels.ts: resize and bytes in one onnxruntime graph, then sharp only
 * encodes). Both take turns in slices, so background load slows them alike.
 *
 *   npx tsx bench/encode.bench.ts [--from 64] [--to 256] [--seconds 3] [--rounds 3]
 *
 * A figure, not a test: no thresholds.
 */
import sharp from 'sharp';
import { DisplayPixels } from '../server/image/display-pixels.js';
import { planarToSharp } from '../server/image/planar.js';
import type { PlanarImage } from '../server/image/planar-image.js';
import { header, idleCheck } from './support/machine.js';
import { benchOptions, timingOptions } from './support/options.js';
import { fixed, percentile, table, timeRuns } from './support/stats.js';

const TITLE = 'encode: planar floats -> display-size JPEG, libvips resize vs onnxruntime resize';
const { values, command } = benchOptions(import.meta.url, TITLE, {
  from: { default: 64, help: 'generated picture side, px' },
  to: { default: 256, help: 'display JPEG side, px' },
  ...timingOptions(3, 3),
});
const { from, to, rounds } = values;
const sliceMs = (values.seconds * 1000) / rounds;
const QUALITY = 85;

console.log(header(TITLE, command));
console.log(await idleCheck());

// A face-like smooth picture with some detail; the content hardly matters for resize cost.
const plane = from * from;
const data = new Float32Array(3 * plane);
for (let c = 0; c < 3; c++)
  for (let y = 0; y < from; y++) for (let x = 0; x < from; x++) data[c * plane + y * from + x] = 0.5 + 0.35 * Math.sin(x / 5 + c) * Math.cos(y / 7 - c) + 0.1 * Math.sin(x * y);
const image: PlanarImage = { data, width: from, height: from };

const pixels = await DisplayPixels.create();
const rgbBuffer = new Uint8Array(plane * 3);
const subjects = [
  {
    name: 'libvips (JS loop to bytes, Lanczos resize, JPEG)',
    run: () => planarToSharp(image, rgbBuffer).resize(to, to, { fit: 'fill', kernel: 'lanczos3' }).jpeg({ quality: QUALITY, mozjpeg: false }).toBuffer(),
    times: [] as number[],
  },
  {
    name: 'onnxruntime graph (resize + bytes), then sharp JPEG',
    run: async () => {
      const rgb = await pixels.rgb(image, to, to);
      return sharp(rgb.data, { raw: { width: to, height: to, channels: 3 } }).jpeg({ quality: QUALITY, mozjpeg: false }).toBuffer();
    },
    times: [] as number[],
  },
];
for (const s of subjects) for (let i = 0; i < 5; i++) await s.run();
for (let r = 0; r < rounds; r++) for (const s of subjects) s.times.push(...(await timeRuns(s.run, { minRuns: 5, minMs: sliceMs })));
await pixels.dispose();

console.log(`\n${from}x${from} -> ${to}x${to} JPEG (quality ${QUALITY}), ms per frame`);
console.log(table(['path', 'median', 'p95', 'best', 'runs'], subjects.map((s) => [s.name, fixed(percentile(s.times, 50), 2), fixed(percentile(s.times, 95), 2), fixed(Math.min(...s.times), 2), String(s.times.length)])));
const [vips, ort] = subjects.map((s) => percentile(s.times, 50)) as [number, number];
console.log(`ratio (median): the onnxruntime path takes ${fixed(ort / vips, 2)}x the time of the libvips path (${fixed(vips / ort, 2)}x faster)`);
process.exit(0);
