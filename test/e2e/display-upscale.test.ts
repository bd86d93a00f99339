/**
 * The display's edge-aware enlargement (display/upscale.ts) in a real browser: the same sharp
 * drawing (discs and bars with one-pixel edges, test/support/tiny-generator.ts) drawn by the default page and by ?upscale=bilinear. The edge-aware picture must be
 * sharper (more gradient energy), keep the same colours on average, and never ring: no value
 * beyond the range the bilinear picture (which cannot overshoot) spans.
 */
import { writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../server/app.js';
import { connect, emitAck, startTestServer } from '../support/server.js';
import { chromiumPath, launchBrowser, pictureStats, type PictureStats, type TestBrowser } from '../support/browser.js';
import { ensurePagesBuilt } from './pages.js';
import { patternModelsDir } from '../support/tiny-generator.js';
import { readDisplay, sleep, waitForFrames } from './display-hook.js';

const chromium = chromiumPath();
const VIEWPORT = { width: 960, height: 540 };
const SETTLE_MS = 2500;

/** The picture's square in the middle of the screen, inset so the drift and the edges stay out. */
function crop(shot: PictureStats, side: number): { rgb: Uint8Array; side: number } {
  const inner = side - 16;
  const x0 = Math.round((shot.width - inner) / 2);
  const y0 = Math.round((shot.height - inner) / 2);
  const rgb = new Uint8Array(inner * inner * 3);
  for (let y = 0; y < inner; y++) for (let x = 0; x < inner * 3; x++) rgb[y * inner * 3 + x] = shot.rgb[((y0 + y) * shot.width + x0) * 3 + x]!;
  return { rgb, side: inner };
}

function gradientEnergy({ rgb, side }: { rgb: Uint8Array; side: number }): number {
  let sum = 0;
  for (let y = 0; y < side - 1; y++) {
    for (let x = 0; x < side - 1; x++) {
      for (let c = 0; c < 3; c++) {
        const i = (y * side + x) * 3 + c;
        sum += (rgb[i + 3]! - rgb[i]!) ** 2 + (rgb[i + side * 3]! - rgb[i]!) ** 2;
      }
    }
  }
  return sum / ((side - 1) * (side - 1) * 3);
}

const mean = (rgb: Uint8Array) => rgb.reduce((s, v) => s + v, 0) / rgb.length;
const range = (rgb: Uint8Array): [number, number] => rgb.reduce<[number, number]>(([lo, hi], v) => [Math.min(lo, v), Math.max(hi, v)], [255, 0]);

describe.skipIf(!chromium)('display: edge-aware enlargement', { timeout: 90_000 }, () => {
  let server: RunningServer;
  let browser: TestBrowser;

  beforeAll(async () => {
    await ensurePagesBuilt();
    server = await startTestServer({ modelsDir: await patternModelsDir(256), frameSize: 256, upscaler: 'off', jpegQuality: 95 });
    const controller = await connect(server, 'controller');
    // One still portrait, the same on both pages: a fixed seed, no glide, no dream, no server-side upscaling.
    expect(await emitAck(controller, 'patch', { mode: 'seed', seed: 11, glide: 0, dream: { mode: 'off' }, upscale: { mode: 'off' } })).toMatchObject({ ok: true });
    controller.disconnect();
    browser = await launchBrowser(chromium!);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('is sharper than bilinear, with the same colours and no ringing', async () => {
    const edge = await browser.open(`${server.url}/`, VIEWPORT);
    const bilinear = await browser.open(`${server.url}/?upscale=bilinear`, VIEWPORT);
    await waitForFrames(edge.page, 3);
    await waitForFrames(bilinear.page, 3);
    await sleep(SETTLE_MS);
    const { lastMeta } = await readDisplay(edge.page);
    expect(lastMeta!.width).toBeLessThan(VIEWPORT.height); // the picture really is enlarged
    const side = VIEWPORT.height;
    const [shotA, shotB] = [await edge.page.screenshot(), await bilinear.page.screenshot()];
    if (process.env.DISPLAY_SHOTS) {
      await writeFile(`${process.env.DISPLAY_SHOTS}/edge-aware.png`, shotA);
      await writeFile(`${process.env.DISPLAY_SHOTS}/bilinear.png`, shotB);
    }
    const a = crop(await pictureStats(shotA), side);
    const b = crop(await pictureStats(shotB), side);
    const sharper = gradientEnergy(a) / gradientEnergy(b);
    console.log(`gradient energy, edge-aware / bilinear: ${sharper.toFixed(2)}`);
    expect(sharper).toBeGreaterThan(1.15);
    expect(Math.abs(mean(a.rgb) - mean(b.rgb))).toBeLessThan(2);
    const [lo, hi] = range(b.rgb);
    const [aLo, aHi] = range(a.rgb);
    expect(aLo).toBeGreaterThanOrEqual(lo - 2);
    expect(aHi).toBeLessThanOrEqual(hi + 2);
    expect(edge.errors).toEqual([]);
  });
});
