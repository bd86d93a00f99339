/**
 * The tablet shows the portrait on the screen now (controller/widgets/now.ts, GET /api/now.jpg),
 * and in landscape that view fills what used to be an empty gap above "Keep this portrait".
 * Screenshots at 1180x820 and 820x1180 go to /tmp/tablet-shots.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../server/app.js';
import { chromiumPath } from '../support/browser.js';
import { connect, startTestServer, type TestSocket } from '../support/server.js';
import { ensurePagesBuilt } from './pages.js';
import { launchTablets } from './tablet-support.js';

const chromium = chromiumPath();
const SHOTS = '/tmp/tablet-shots';

describe.skipIf(!chromium)('tablet: on the screen now', { timeout: 120_000 }, () => {
  let server: RunningServer;
  let display: TestSocket;
  let tablets: Awaited<ReturnType<typeof launchTablets>>;

  beforeAll(async () => {
    await ensurePagesBuilt();
    await mkdir(SHOTS, { recursive: true });
    server = await startTestServer({ upscaler: 'off' });
    display = await connect(server, 'display');
    tablets = await launchTablets(chromium!);
  }, 120_000);

  afterAll(async () => {
    display?.disconnect();
    await tablets?.browser.close();
    await server?.close();
  });

  it('serves the newest frame as a JPEG', async () => {
    const res = await fetch(`${server.url}/api/now.jpg`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/jpeg');
    const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
    expect(meta.width).toBe(server.config.frameSize);
  });

  for (const [name, viewport] of [
    ['landscape', { width: 1180, height: 820 }],
    ['portrait', { width: 820, height: 1180 }],
  ] as const) {
    it(`${name}: shows the current portrait, with no dead space above the Keep button`, async () => {
      const tablet = await tablets.open(`${server.url}/controller/`, viewport);
      await tablet.page.waitForFunction(() => ((document.getElementById('now-img') as HTMLImageElement | null)?.naturalWidth ?? 0) > 0, null, { timeout: 20_000 });
      await tablet.page.screenshot({ path: join(SHOTS, `controller-now-${name}.png`) });
      const boxes = await tablet.page.evaluate(() => {
        const box = (id: string) => document.getElementById(id)!.getBoundingClientRect();
        const panel = document.querySelector('.tab-panel:not([hidden])')!.getBoundingClientRect();
        const panels = document.querySelector('.tab-panels')!.getBoundingClientRect();
        const content = [...document.querySelectorAll('.tab-panel:not([hidden]) > *')].reduce((m, e) => Math.max(m, e.getBoundingClientRect().bottom), panel.top);
        return { now: box('now-img'), figure: box('now'), capture: box('capture'), panelsBottom: panels.bottom, contentBottom: content };
      });
      expect(boxes.now.height).toBeGreaterThanOrEqual(name === 'landscape' ? 200 : 100);
      expect(boxes.now.bottom).toBeLessThanOrEqual(boxes.capture.top);
      // From the last control of the open tab to the Keep button: the live view, no empty band.
      const emptyAbove = boxes.capture.top - boxes.figure.bottom;
      const emptyBelowControls = boxes.now.top - boxes.contentBottom;
      expect(emptyAbove).toBeLessThan(48);
      expect(emptyBelowControls).toBeLessThan(name === 'landscape' ? 120 : 200);
      expect(tablet.errors).toEqual([]);
      await tablet.close();
    });
  }
});
