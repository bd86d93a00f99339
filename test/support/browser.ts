/**
 * Debian's Chromium, driven by playwright-core, for the e2e tests. Headless, no GPU
 * (SwiftShader renders WebGL on the CPU), no background traffic, and a fresh profile
 * per launch so no test sees another's cache, storage or service workers.
 * Machines without Chromium skip with a printed reason; under CI (CI=true) a missing
 * Chromium fails, so CI can never pass by skipping the browser tests.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import sharp from 'sharp';

export const CHROMIUM_PATH = '/usr/bin/chromium';

export const CHROMIUM_ARGS: readonly string[] = Object.freeze([
  '--headless',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-gpu-sandbox',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
]);

/** The Chromium binary, or null (with a printed reason) when it is missing outside CI. */
export function chromiumPath(): string | null {
  if (existsSync(CHROMIUM_PATH)) return CHROMIUM_PATH;
  const why = `${CHROMIUM_PATH} is not installed (apt-get install -y chromium)`;
  if (process.env.CI === 'true') throw new Error(`CI=true but ${why}`);
  console.warn(`skipped: ${why}`);
  return null;
}

export interface TestBrowser {
  readonly context: BrowserContext;
  /** A new tab at `url`, with its uncaught page errors collected in `errors`. */
  open(url: string, viewport?: { width: number; height: number }): Promise<TestPage>;
  close(): Promise<void>;
}

export interface TestPage {
  readonly page: Page;
  /** Uncaught exceptions thrown in the page (console noise such as failed reconnects is not counted). */
  readonly errors: string[];
}

export async function launchBrowser(executablePath: string): Promise<TestBrowser> {
  const profile = await mkdtemp(join(tmpdir(), 'portraits-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath,
      headless: true,
      args: [...CHROMIUM_ARGS],
      viewport: { width: 960, height: 540 },
    });
  } catch (error) {
    await rm(profile, { recursive: true, force: true });
    throw error;
  }
  // A persistent context opens with one blank tab; it is of no use to the tests.
  await Promise.allSettled(context.pages().map((p) => p.close()));
  return {
    context,
    async open(url, viewport) {
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.stack ?? error.message));
      if (viewport) await page.setViewportSize(viewport);
      await page.goto(url);
      return { page, errors };
    },
    async close() {
      await context.close().catch(() => {});
      await rm(profile, { recursive: true, force: true });
    },
  };
}

export interface PictureStats {
  width: number;
  height: number;
  /** Standard deviation of all channel values: near 0 for a blank (single-colour) picture. */
  stdev: number;
  /** Raw RGB bytes, row by row. */
  rgb: Buffer;
}

/** Decodes a PNG screenshot into RGB pixels and their spread. */
export async function pictureStats(png: Buffer): Promise<PictureStats> {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const stats = await sharp(data, { raw: { width: info.width, height: info.height, channels: 3 } }).stats();
  const stdev = Math.sqrt(stats.channels.reduce((s, c) => s + c.stdev ** 2, 0) / stats.channels.length);
  return { width: info.width, height: info.height, stdev, rgb: data };
}

/** Mean absolute difference per channel value (0..255) of two same-sized pictures. */
export function meanDifference(a: PictureStats, b: PictureStats): number {
  if (a.width !== b.width || a.height !== b.height) throw new Error(`pictures differ in size: ${a.width}x${a.height} vs ${b.width}x${b.height}`);
  let sum = 0;
  for (let i = 0; i < a.rgb.length; i++) sum += Math.abs(a.rgb[i]! - b.rgb[i]!);
  return sum / a.rgb.length;
}
