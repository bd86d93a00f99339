/**
 * The display page in a real browser against the real server: it shows a moving,
 * non-blank picture, letterboxed in black, upright and with the frame's own colours.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import type { RunningServer } from '../../server/app.js';
import { connect, emitAck, nextFrames, startTestServer } from '../support/server.js';
import { chromiumPath, launchBrowser, meanDifference, pictureStats, type TestBrowser, type TestPage } from '../support/browser.js';
import { ensurePagesBuilt } from './pages.js';
import { readDisplay, sleep, waitForFrames } from './display-hook.js';

const chromium = chromiumPath();
const VIEWPORT = { width: 960, height: 540 };
/** The first picture rises from black over 1.5 s (display/main.ts); screenshots wait it out. */
const RISE_MS = 1800;

describe.skipIf(!chromium)('display page', { timeout: 60_000 }, () => {
  let server: RunningServer;
  let browser: TestBrowser;
  let display: TestPage;

  beforeAll(async () => {
    await ensurePagesBuilt();
    server = await startTestServer();
    browser = await launchBrowser(chromium!);
    display = await browser.open(`${server.url}/`, VIEWPORT);
    await waitForFrames(display.page, 3);
    await sleep(RISE_MS);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('shows a non-blank picture that changes over time', async () => {
    const first = await pictureStats(await display.page.screenshot());
    await sleep(1500);
    const second = await pictureStats(await display.page.screenshot());
    expect(first.stdev).toBeGreaterThan(15);
    expect(second.stdev).toBeGreaterThan(15);
    expect(meanDifference(first, second)).toBeGreaterThan(0.5);
    const state = await readDisplay(display.page);
    expect(state.connected).toBe(true);
    expect(state.framesReceived).toBeGreaterThan(3);
    expect(state.lastMeta).toMatchObject({ format: 'jpeg', width: expect.any(Number), height: expect.any(Number) });
    // Each frame's texture is released once replaced: the black start, two snapshots, the newest frame,
    // and the edge-aware enlargement's two targets (the blend at picture size, the enlarged picture).
    expect(state.textures).toBeLessThanOrEqual(6);
    expect(display.errors).toEqual([]);
  });

  it('keeps the aspect ratio, with black around the picture', async () => {
    const { lastMeta } = await readDisplay(display.page);
    const shot = await pictureStats(await display.page.screenshot());
    const scale = Math.min(VIEWPORT.width / lastMeta!.width, VIEWPORT.height / lastMeta!.height);
    const left = Math.round((VIEWPORT.width - lastMeta!.width * scale) / 2);
    expect(left).toBeGreaterThan(20); // the test needs a wide screen and a narrower picture
    const columnMax = (x: number) => {
      let max = 0;
      for (let y = 0; y < shot.height; y++) for (let c = 0; c < 3; c++) max = Math.max(max, shot.rgb[(y * shot.width + x) * 3 + c]!);
      return max;
    };
    for (const x of [0, left - 4, shot.width - left + 3, shot.width - 1]) expect(columnMax(x), `column ${x} is outside the picture`).toBeLessThanOrEqual(3);
    expect(columnMax(Math.round(shot.width / 2))).toBeGreaterThan(30);
  });

  it('follows the blackout and caption settings from the live state', async () => {
    const controller = await connect(server, 'controller');
    try {
      expect(await emitAck(controller, 'patch', { display: { blackout: 1 } })).toMatchObject({ ok: true });
      await sleep(2000);
      const black = await pictureStats(await display.page.screenshot());
      expect(black.stdev).toBeLessThan(2);

      expect(await emitAck(controller, 'patch', { display: { blackout: 0, caption: true } })).toMatchObject({ ok: true });
      await display.page.waitForSelector('#caption.visible');
      await sleep(2000);
      const lit = await pictureStats(await display.page.screenshot());
      expect(lit.stdev).toBeGreaterThan(15);
      // Read label and metadata together: the walk moves on between two separate reads.
      const { text, seeds } = await display.page.evaluate(() => ({ text: document.getElementById('caption')!.innerText, seeds: window.__display!.lastMeta!.seeds }));
      const match = /^Portrait #(\d+)\nthis person does not exist$/.exec(text);
      expect(match, `caption text ${JSON.stringify(text)}`).not.toBeNull();
      expect(seeds).toContain(Number(match![1]));

      expect(await emitAck(controller, 'patch', { display: { caption: false } })).toMatchObject({ ok: true });
      await display.page.waitForSelector('#caption', { state: 'hidden' });
    } finally {
      controller.disconnect();
    }
  });

  it('shows the frame as sent: upright, with its own colours', async () => {
    // Hold the walk so the stream repeats one picture, then compare the screen with it.
    const controller = await connect(server, 'controller');
    expect(await emitAck(controller, 'patch', { walk: { speed: 0 } })).toMatchObject({ ok: true });
    controller.disconnect();
    await sleep(3000); // the face glides to rest (state.glide)

    const probe = await connect(server, 'display');
    const [a, b] = await nextFrames(probe, 2);
    probe.disconnect();
    const decode = (jpeg: Buffer) => sharp(jpeg).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const [frameA, frameB] = await Promise.all([decode(a!.image), decode(b!.image)]);
    const { width, height } = frameA.info;
    const frame = { width, height, stdev: 0, rgb: frameA.data };
    expect(meanDifference(frame, { ...frame, rgb: frameB.data }), 'the held stream should repeat one picture').toBeLessThan(1);

    await sleep(500);
    const png = await display.page.screenshot();
    const scale = Math.min(VIEWPORT.width / width, VIEWPORT.height / height);
    const region = { left: Math.round((VIEWPORT.width - width * scale) / 2), top: Math.round((VIEWPORT.height - height * scale) / 2), width: Math.round(width * scale), height: Math.round(height * scale) };
    const shown = await sharp(png).removeAlpha().extract(region).resize(width, height).raw().toBuffer();
    const flipped = await sharp(shown, { raw: { width, height, channels: 3 } }).flip().raw().toBuffer();
    const upright = meanDifference(frame, { ...frame, rgb: shown });
    const upsideDown = meanDifference(frame, { ...frame, rgb: flipped });
    expect(upright).toBeLessThan(8);
    expect(upsideDown).toBeGreaterThan(upright * 2);
    expect(display.errors).toEqual([]);
  });
});
