/**
 * The endless zoom stays alive: 600 frames of the live zoom (the dream stage itself, at
 * 48 px so it is quick) and 600 offline zoom frames (the CLI's loop: zoom, blend, a dream
 * held to the portrait), both on the shipped dream network's default style and a portrait
 * from the default model. Throughout, the picture's spread (contrast along the portrait's
 * light-dark axis, and its colour spreads) and its mean colour stay near the portrait's,
 * and it keeps changing. Without the hold and the blend the same loop drifts out of those
 * bounds (the control at the end), so the bounds are not loose.
 */
import { DEFAULT_STATE } from '../../common/state.js';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { colourStats, pictureBasis, type ColourBasis } from '../../server/dream/colour.js';
import { DEFAULT_DREAM, dreamImage, dreamStep } from '../../server/dream/engine.js';
import { ImageOps } from '../../server/dream/image-ops.js';
import { DreamLibrary } from '../../server/dream/library.js';
import { ZOOM_LIVE, ZOOM_OFFLINE, zoomFeed } from '../../server/dream/zoom.js';
import { dreamCatalogue } from '../../server/models/registry.js';
import { readManifest } from '../../server/models/registry.js';
import { DreamStage } from '../../server/stages/dream.js';
import { fixedSnapshot, newJob } from '../../server/stages/stage.js';
import { openPrintGenerator } from '../../server/upscale/print.js';
import type { PlanarImage } from '../../server/image/planar-image.js';
import { splitmix32 } from '../../common/random.js';

const SIZE = 48;
const FRAMES = 600;
const modelsDir = fileURLToPath(new URL('../../models/', import.meta.url));

let ops: ImageOps;
let library: DreamLibrary;
let portrait: PlanarImage;
let basis: ColourBasis;

beforeAll(async () => {
  ops = await ImageOps.create();
  const generator = await openPrintGenerator(modelsDir, 'default-face');
  try {
    portrait = await ops.resize(await generator.paint(12), SIZE, SIZE);
  } finally {
    await generator.dispose();
  }
  basis = pictureBasis(portrait);
  library = new DreamLibrary(await dreamCatalogue({ modelsDir, dreamModel: '' }, await readManifest(`${modelsDir}default-face`)), 'cpu');
  await library.ready('');
}, 60_000);

afterAll(async () => {
  await library?.dispose();
  await ops?.dispose();
});

interface Measure {
  /** Spread along the portrait's i-th colour axis, relative to the portrait's. */
  spread: [number, number, number];
  /** Largest difference of a channel mean from the portrait's (0..1 units). */
  colourShift: number;
}

function measure(img: PlanarImage): Measure {
  const plane = img.width * img.height;
  const spread = basis.axes.map((a, k) => {
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < plane; i++) {
      const p = a[0] * img.data[i]! + a[1] * img.data[plane + i]! + a[2] * img.data[2 * plane + i]!;
      s += p;
      s2 += p * p;
    }
    return Math.sqrt(Math.max(s2 / plane - (s / plane) ** 2, 0)) / basis.spread[k]!;
  }) as Measure['spread'];
  const mean = colourStats(img).mean;
  return { spread, colourShift: Math.max(...mean.map((m, c) => Math.abs(m - basis.mean[c]!))) };
}

function meanAbsDiff(a: PlanarImage, b: PlanarImage): number {
  let d = 0;
  for (let i = 0; i < a.data.length; i++) d += Math.abs(a.data[i]! - b.data[i]!);
  return d / a.data.length;
}

/** Worst values over the frames after the first 30 (the zoom's warm-up). */
function bounds(frames: Measure[]) {
  const settled = frames.slice(30);
  return {
    lightDark: [Math.min(...settled.map((m) => m.spread[0])), Math.max(...settled.map((m) => m.spread[0]))],
    colour: [Math.min(...settled.map((m) => Math.min(m.spread[1], m.spread[2]))), Math.max(...settled.map((m) => Math.max(m.spread[1], m.spread[2])))],
    shift: Math.max(...settled.map((m) => m.colourShift)),
  };
}

function expectAlive(label: string, frames: Measure[], last: PlanarImage, before: PlanarImage): void {
  const b = bounds(frames);
  console.log(`${label}, ${FRAMES} frames at ${SIZE} px: light-dark spread ${b.lightDark.map((v) => v.toFixed(2)).join('-')}x the portrait's, colour spreads ${b.colour.map((v) => v.toFixed(2)).join('-')}x, largest mean-colour shift ${(b.shift * 255).toFixed(1)}/255`);
  // Contrast kept: never washed out, never blown out.
  expect(b.lightDark[0], `${label}: light-dark spread never below`).toBeGreaterThan(0.8);
  expect(b.lightDark[1], `${label}: light-dark spread never above`).toBeLessThan(1.45);
  // Colours kept: no hue takes over, none fades to grey.
  expect(b.colour[0], `${label}: colour spread never below`).toBeGreaterThan(0.6);
  expect(b.colour[1], `${label}: colour spread never above`).toBeLessThan(1.6);
  expect(b.shift * 255, `${label}: mean colour within 12/255 of the portrait's`).toBeLessThan(12);
  // Alive: still moving at the end, and not just the portrait.
  expect(meanAbsDiff(last, before) * 255, `${label}: still changing`).toBeGreaterThan(0.5);
  expect(meanAbsDiff(last, portrait) * 255, `${label}: dreamed, not the portrait`).toBeGreaterThan(5);
}

describe('the endless zoom', () => {
  it(`stays alive for ${FRAMES} live frames (the dream stage)`, async () => {
    const stage = new DreamStage(ops, library, { size: SIZE });
    const snapshot = fixedSnapshot({ dream: { ...DEFAULT_STATE.dream, mode: 'zoom', strength: 1, style: '', octaves: 2 } });
    const frames: Measure[] = [];
    let last = portrait;
    let before = portrait;
    for (let f = 0; f < FRAMES; f++) {
      const job = newJob(f, snapshot);
      job.image = { data: portrait.data.slice(), width: SIZE, height: SIZE };
      await stage.run(job);
      before = last;
      last = job.image;
      frames.push(measure(last));
    }
    expect(last.width).toBe(SIZE);
    expectAlive('live zoom', frames, last, frames.length > 10 ? before : portrait);
  }, 120_000);

  it(`stays alive for ${FRAMES} offline frames (portraits dream --zoom-frames)`, async () => {
    const net = await library.ready('');
    const settings = { ...DEFAULT_DREAM, octaves: 1, iterations: 1, step: 3 };
    const frames: Measure[] = [];
    let image = portrait;
    let before = portrait;
    for (let f = 0; f < FRAMES; f++) {
      before = image;
      if (f > 0) image = await zoomFeed(ops, image, portrait, { scale: 1.05, radians: 0, anchor: ZOOM_OFFLINE.anchor });
      image = await dreamImage(net, ops, image, { ...settings, seed: f }, undefined, { colours: basis, contrast: ZOOM_OFFLINE.contrast });
      frames.push(measure(image));
    }
    expectAlive('offline zoom', frames, image, before);
  }, 120_000);

  it('without the hold and the blend, the same feedback drifts out of those bounds (control)', async () => {
    const net = await library.ready('');
    const random = splitmix32(1);
    const frames: Measure[] = [];
    let image = portrait;
    for (let f = 0; f < FRAMES; f++) {
      if (f > 0) image = await zoomFeed(ops, image, portrait, { scale: ZOOM_LIVE.scale, radians: ZOOM_LIVE.radians, anchor: 0 });
      image = (await dreamStep(net, image, 6, 3, random)).image;
      frames.push(measure(image));
    }
    const b = bounds(frames);
    console.log(`control (plain RGB steps, no hold, no blend): light-dark ${b.lightDark.map((v) => v.toFixed(2)).join('-')}x, colour ${b.colour.map((v) => v.toFixed(2)).join('-')}x, shift ${(b.shift * 255).toFixed(1)}/255`);
    const inside = b.lightDark[0]! > 0.8 && b.lightDark[1]! < 1.45 && b.colour[0]! > 0.6 && b.colour[1]! < 1.6 && b.shift * 255 < 12;
    expect(inside).toBe(false);
  }, 120_000);
});
