/**
 * Tablets for the e2e tests: Debian's Chromium (the flags of test/support/browser.ts), one
 * browser context per tablet with touch emulation (hasTouch, isMobile), real touch drags
 * through the DevTools protocol (touchstart/move/end, as a finger makes them), a models
 * folder whose generator has named directions, and small waiting helpers.
 */
import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { gaussian } from '../../common/random.js';
import { CHROMIUM_ARGS } from '../support/browser.js';
import { sleep } from './display-hook.js';

export const PORTRAIT = { width: 800, height: 1280 };
export const LANDSCAPE = { width: 1280, height: 800 };

export interface Tablet {
  page: Page;
  errors: string[];
  close(): Promise<void>;
}

export async function launchTablets(executablePath: string): Promise<{ browser: Browser; open(url: string, viewport?: { width: number; height: number }): Promise<Tablet> }> {
  const browser = await chromium.launch({ executablePath, headless: true, args: [...CHROMIUM_ARGS] });
  return {
    browser,
    async open(url, viewport = PORTRAIT) {
      const context = await browser.newContext({ viewport, hasTouch: true, isMobile: true, deviceScaleFactor: 1 });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.stack ?? error.message));
      await page.goto(url);
      return { page, errors, close: () => context.close() };
    },
  };
}

/** A finger drag from one point to another (page CSS pixels), in `steps` moves about 16 ms apart. */
export async function touchDrag(page: Page, from: { x: number; y: number }, to: { x: number; y: number }, steps = 20): Promise<void> {
  const cdp = await page.context().newCDPSession(page);
  try {
    const point = (x: number, y: number) => [{ x, y, id: 1, radiusX: 8, radiusY: 8, force: 1 }];
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: point(from.x, from.y) });
    for (let i = 1; i <= steps; i++) {
      const t = i / steps;
      await cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: point(from.x + (to.x - from.x) * t, from.y + (to.y - from.y) * t) });
      await sleep(16);
    }
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
  } finally {
    await cdp.detach();
  }
}

/** The pad's box, and page coordinates for a point given as fractions of it. */
export async function padPoint(page: Page, fx: number, fy: number): Promise<{ x: number; y: number }> {
  const box = await page.locator('#pad').boundingBox();
  if (!box) throw new Error('the seed pad is not visible');
  return { x: box.x + box.width * fx, y: box.y + box.height * fy };
}

export { waitUntil } from '../support/wait.js';

const MODELS = fileURLToPath(new URL('../../models/', import.meta.url));

/**
 * A copy of the committed default model (with its critic, and the shipped dream network for the dream styles) whose
 * manifest names two directions, so the sliders have something to steer whether or not
 * `portraits directions` has been run on the committed model. Returns the models dir and the vectors.
 */
export async function modelsWithDirections(): Promise<{ dir: string; vectors: Record<string, Float32Array> }> {
  const dir = await mkdtemp(join(tmpdir(), 'portraits-tablet-models-'));
  await cp(join(MODELS, 'default-face'), join(dir, 'default-face'), { recursive: true });
  await cp(join(MODELS, 'default-face-critic'), join(dir, 'default-face-critic'), { recursive: true });
  await cp(join(MODELS, 'darknet-tiny'), join(dir, 'darknet-tiny'), { recursive: true });
  const path = join(dir, 'default-face', 'manifest.json');
  const manifest = JSON.parse(await readFile(path, 'utf8')) as { generator: { latentSize: number }; directions?: unknown };
  const dim = manifest.generator.latentSize;
  const unit = (seed: number) => {
    const v = gaussian(seed, dim);
    const n = Math.hypot(...v);
    return v.map((x) => (3 * x) / n);
  };
  const vectors = { age: unit(11), light: unit(12) };
  manifest.directions = {
    age: { vector: Array.from(vectors.age), description: 'test direction', ends: ['younger', 'older'] },
    light: { vector: Array.from(vectors.light), ends: ['darker', 'brighter'] },
  };
  await writeFile(path, JSON.stringify(manifest, null, 2));
  return { dir, vectors };
}

/** Euclidean distance of two latents given as plain arrays. */
export function latentDistance(a: readonly number[], b: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2;
  return Math.sqrt(s);
}
