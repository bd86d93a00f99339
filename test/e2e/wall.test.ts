/**
 * The display page on a video wall, in a real browser: two servers with the same tile
 * wall, one page per screen (`/?screen=left` on one, `/?screen=right` on the other).
 * Each page estimates its node's cluster clock, presents the frames made for its screen
 * (stamped with a slot and presentAt), and a page naming a screen the wall does not
 * have says why it gets no picture.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../server/app.js';
import { startTestServer } from '../support/server.js';
import { chromiumPath, launchBrowser, pictureStats, type TestBrowser } from '../support/browser.js';
import { ensurePagesBuilt } from './pages.js';
import { readDisplay, waitForFrames } from './display-hook.js';

const chromium = chromiumPath();
const WALL = { layout: 'tile' as const, columns: 2, rows: 1, screens: [{ name: 'left', column: 0, row: 0 }, { name: 'right', column: 1, row: 0 }] };

describe.skipIf(!chromium)('display page on a tile wall', { timeout: 90_000 }, () => {
  const servers: RunningServer[] = [];
  let browser: TestBrowser;

  beforeAll(async () => {
    await ensurePagesBuilt();
    servers.push(await startTestServer({ wall: WALL, frameSize: 128, fps: 10, upscaler: 'off' }), await startTestServer({ wall: WALL, frameSize: 128, fps: 10, upscaler: 'off' }));
    browser = await launchBrowser(chromium!);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await Promise.all(servers.map((s) => s.close()));
  });

  it("each page shows its own screen's frames, presented by slot on an estimated cluster clock", async () => {
    const [a, b] = servers as [RunningServer, RunningServer];
    const left = await browser.open(`${a.url}/?screen=left`, { width: 480, height: 480 });
    const right = await browser.open(`${b.url}/?screen=right`, { width: 480, height: 480 });
    await Promise.all([waitForFrames(left.page, 5), waitForFrames(right.page, 5)]);
    // The first clock answer may come after the first frames on a busy machine (the frames then show at once).
    await Promise.all([left.page, right.page].map((p) => p.waitForFunction(() => window.__display?.clock != null, undefined, { timeout: 15_000 })));
    const [l, r] = await Promise.all([readDisplay(left.page), readDisplay(right.page)]);
    expect(l.lastMeta).toMatchObject({ screen: 'left', width: 128, height: 128 });
    expect(r.lastMeta).toMatchObject({ screen: 'right', width: 128, height: 128 });
    expect(l.lastMeta!.presentAt).toBeGreaterThan(l.lastMeta!.slot! * 100);
    // The clock estimate over socket.io: a round trip on loopback, and an offset that maps the page's clock onto the server's.
    for (const page of [l, r]) {
      expect(page.clock).not.toBeNull();
      expect(page.clock!.rtt).toBeLessThan(1000);
    }
    const pageNow = await left.page.evaluate(() => performance.now());
    expect(Math.abs(pageNow + l.clock!.offset - Date.now())).toBeLessThan(1000);
    const shot = await pictureStats(await left.page.screenshot());
    expect(shot.stdev).toBeGreaterThan(10);
    expect(left.errors).toEqual([]);
    expect(right.errors).toEqual([]);
  });

  it('a page naming a screen the wall does not have shows the reason', async () => {
    const stray = await browser.open(`${servers[0]!.url}/?screen=middle`, { width: 480, height: 480 });
    await stray.page.waitForFunction(() => document.getElementById('notice')?.classList.contains('visible'), undefined, { timeout: 15_000 });
    expect(await stray.page.textContent('#notice')).toContain(`unknown screen "middle"; this wall's screens: left, right`);
    expect((await readDisplay(stray.page)).framesReceived).toBe(0);
  });
});
