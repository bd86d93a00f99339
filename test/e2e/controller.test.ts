/**
 * The controller page in a real browser against the real server and a real display
 * page: "New face" changes what the display shows, and the walk speed slider reaches
 * the server and every other tablet.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../server/app.js';
import { startTestServer } from '../support/server.js';
import { chromiumPath, launchBrowser, meanDifference, pictureStats, type TestBrowser, type TestPage } from '../support/browser.js';
import { ensurePagesBuilt } from './pages.js';
import { readDisplay, sleep, waitForFrames } from './display-hook.js';
import { waitUntil } from '../support/wait.js';

const chromium = chromiumPath();
const TABLET = { width: 820, height: 1180 };
/** Long enough for the face to glide to rest (state.glide is 0.6 s, an exponential follow). */
const SETTLE_MS = 3000;


describe.skipIf(!chromium)('controller page', { timeout: 60_000 }, () => {
  let server: RunningServer;
  let browser: TestBrowser;
  let display: TestPage;
  let tablet: TestPage;

  beforeAll(async () => {
    await ensurePagesBuilt();
    // With an admin token set, the tablet pages are visitors, as in the gallery (without one,
    // this machine's own clients are the administrator: docs/reliability.md).
    server = await startTestServer({ adminToken: 'e2e-controller-admin-token' });
    browser = await launchBrowser(chromium!);
    display = await browser.open(`${server.url}/`, { width: 640, height: 640 });
    tablet = await browser.open(`${server.url}/controller/`, TABLET);
    await tablet.page.waitForSelector('#connection[data-state="connected"]');
    await tablet.page.waitForSelector('#walk-speed:enabled');
    await waitForFrames(display.page, 3);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('shows the connection and the live walk speed', async () => {
    expect(await tablet.page.textContent('#connection')).toBe('Connected');
    expect(Number(await tablet.page.inputValue('#walk-speed'))).toBe(server.store.state.walk.speed);
    expect(await tablet.page.isEnabled('#new-face')).toBe(true);
  });

  it('"New face" changes the face the display shows', async () => {
    // Hold the walk first, so any change afterwards is the button's doing.
    await tablet.page.fill('#walk-speed', '0');
    await waitUntil('the server holds the walk', () => server.store.state.walk.speed === 0);
    await sleep(SETTLE_MS);
    const before = await readDisplay(display.page);
    const still = await pictureStats(await display.page.screenshot());
    await sleep(1000);
    const held = await readDisplay(display.page);
    expect(held.lastMeta!.seeds, 'a held walk stays between the same seeds').toEqual(before.lastMeta!.seeds);
    const stillAgain = await pictureStats(await display.page.screenshot());
    const drift = meanDifference(still, stillAgain);

    const walkSeed = server.store.state.walk.seed;
    await tablet.page.click('#new-face');
    await tablet.page.waitForSelector('#message:has-text("new face")');
    expect(server.store.state.walk.seed).not.toBe(walkSeed);
    await waitUntil('the display receives the new face', async () => {
      const now = await readDisplay(display.page);
      return now.lastMeta!.stateVersion > before.lastMeta!.stateVersion && now.lastMeta!.seeds.join() !== before.lastMeta!.seeds.join();
    });
    await sleep(SETTLE_MS);
    const after = await pictureStats(await display.page.screenshot());
    const change = meanDifference(still, after);
    expect(after.stdev).toBeGreaterThan(15);
    expect(change).toBeGreaterThan(Math.max(3, drift * 5));
    expect(tablet.errors).toEqual([]);
    expect(display.errors).toEqual([]);
  });

  it('rests politely while the performer has locked the tablets', async () => {
    expect(server.store.apply({ visitorLock: true }, 'osc')).toMatchObject({ ok: true });
    await tablet.page.waitForSelector('#lock', { state: 'visible' });
    expect(await tablet.page.isDisabled('#new-face')).toBe(true);
    expect(await tablet.page.isDisabled('#walk-speed')).toBe(true);
    // A tap that races the lock (the state not yet arrived) must show the server's refusal.
    await tablet.page.$eval('#new-face', (button) => ((button as HTMLButtonElement).disabled = false));
    await tablet.page.click('#new-face');
    await tablet.page.waitForSelector('#message.error');
    expect(await tablet.page.textContent('#message')).toBe('The performer has the controls right now.');

    expect(server.store.apply({ visitorLock: false }, 'osc')).toMatchObject({ ok: true });
    await tablet.page.waitForSelector('#lock', { state: 'hidden' });
    expect(await tablet.page.isEnabled('#new-face')).toBe(true);
    expect(await tablet.page.isEnabled('#walk-speed')).toBe(true);
  });

  it('the slider reaches the server and the other tablets', async () => {
    const other = await browser.open(`${server.url}/controller/`, TABLET);
    await other.page.waitForSelector('#walk-speed:enabled');
    await tablet.page.fill('#walk-speed', '0.8');
    await waitUntil('the server has the new speed', () => server.store.state.walk.speed === 0.8);
    await other.page.waitForFunction(() => (document.querySelector('#walk-speed') as HTMLInputElement).value === '0.8');
    expect(await other.page.textContent('#walk-speed-value')).toBe('0.80 faces/s');
    expect(other.errors).toEqual([]);
  });
});
