/** Reads the display page's test instrumentation (`window.__display`, see display/debug.ts). */
import type { Page } from 'playwright-core';
import type { DisplayDebug } from '../../display/debug.js';

export type DisplaySnapshot = { [K in keyof DisplayDebug]: DisplayDebug[K] };

export function readDisplay(page: Page): Promise<DisplaySnapshot> {
  return page.evaluate(() => {
    const hook = window.__display;
    if (!hook) throw new Error('window.__display is missing: the display page did not start');
    return { framesReceived: hook.framesReceived, lastMeta: hook.lastMeta, connected: hook.connected, draws: hook.draws, textures: hook.textures, clock: hook.clock };
  });
}

/** Waits until the display has shown at least `count` frames in total. */
export async function waitForFrames(page: Page, count: number, timeoutMs = 30_000): Promise<void> {
  await page.waitForFunction((n) => (window.__display?.framesReceived ?? 0) >= n, count, { timeout: timeoutMs });
}

export async function waitForConnected(page: Page, connected: boolean, timeoutMs = 30_000): Promise<void> {
  await page.waitForFunction((c) => window.__display?.connected === c, connected, { timeout: timeoutMs });
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
