/**
 * An unattended display must survive the server going away: it waits calmly (the
 * picture sinks to dark, a light breathes, nothing is drawn once that has settled)
 * and, when a server comes back on the same port, picks the stream up by itself.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../server/app.js';
import { startTestServer } from '../support/server.js';
import { chromiumPath, launchBrowser, pictureStats, type TestBrowser, type TestPage } from '../support/browser.js';
import { ensurePagesBuilt } from './pages.js';
import { readDisplay, sleep, waitForConnected, waitForFrames } from './display-hook.js';

const chromium = chromiumPath();

describe.skipIf(!chromium)('display reconnection', { timeout: 90_000 }, () => {
  let server: RunningServer | undefined;
  let browser: TestBrowser;
  let display: TestPage;

  beforeAll(async () => {
    await ensurePagesBuilt();
    server = await startTestServer();
    browser = await launchBrowser(chromium!);
    display = await browser.open(`${server.url}/`, { width: 800, height: 450 });
    await waitForFrames(display.page, 3);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('recovers by itself after the server restarts on the same port', async () => {
    const port = server!.port;
    const before = await readDisplay(display.page);
    expect(before.connected).toBe(true);
    expect(await display.page.isVisible('#waiting.visible')).toBe(false);

    await server!.close();
    server = undefined;
    await waitForConnected(display.page, false);
    expect(await display.page.locator('#waiting').getAttribute('class')).toContain('visible');

    // Draw on demand: once the picture has sunk to dark, the page stops drawing.
    let draws = (await readDisplay(display.page)).draws;
    let stableFor = 0;
    for (let waited = 0; stableFor < 1500; waited += 250) {
      if (waited > 20_000) throw new Error('the display kept drawing while it had nothing new to show');
      await sleep(250);
      const now = (await readDisplay(display.page)).draws;
      stableFor = now === draws ? stableFor + 250 : 0;
      draws = now;
    }
    const dark = await pictureStats(await display.page.screenshot());
    expect(dark.stdev, 'the waiting screen is dark and calm').toBeLessThan(8);
    const text = await display.page.evaluate(() => document.body.innerText.trim());
    expect(text, 'no error text on the wall').toBe('');

    server = await startTestServer({ port });
    await waitForConnected(display.page, true, 30_000);
    await waitForFrames(display.page, before.framesReceived + 3, 30_000);
    await sleep(2000); // the picture rises from the dark
    const back = await pictureStats(await display.page.screenshot());
    expect(back.stdev).toBeGreaterThan(15);
    expect(await display.page.locator('#waiting').getAttribute('class')).not.toContain('visible');
    expect(display.errors).toEqual([]);
  });
});
