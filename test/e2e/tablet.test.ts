/**
 * The visitors' tablet in a real browser (touch emulation) against the real server and a
 * real display page: faces rendered on the tablet equal the server's, the layout fits
 * portrait and landscape tablets without scrolling, pad drags and candidate taps change
 * the display, sliders move the latent along their direction, two tablets take turns,
 * a flood is held to its budget, and captures are downloadable via their link.
 * Screenshots land in /tmp/tablet-shots for people to look at.
 */
import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import QRCode from 'qrcode';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FrameMeta } from '../../common/frame.js';
import { generatorFeeds } from '../../common/generator-inputs.js';
import { seedToLatent } from '../../common/latent.js';
import { DEFAULT_STATE } from '../../common/state.js';
import type { TabletSetup, TabletStatus } from '../../common/protocol.js';
import type { RunningServer } from '../../server/app.js';
import { SLOW_DOWN } from '../../server/inputs/socket-limits.js';
import { createSession, floatFeeds } from '../../server/onnx/runtime.js';
import { chromiumPath, meanDifference, pictureStats } from '../support/browser.js';
import { connect, startTestServer, type TestSocket } from '../support/server.js';
import { readDisplay, sleep, waitForFrames } from './display-hook.js';
import { ensurePagesBuilt } from './pages.js';
import { LANDSCAPE, PORTRAIT, launchTablets, latentDistance, modelsWithDirections, padPoint, touchDrag, waitUntil, type Tablet } from './tablet-support.js';

const chromium = chromiumPath();
const SHOTS = '/tmp/tablet-shots';
const TURN_IDLE_S = 8;
/** Long enough for the face to glide to rest (state.glide 0.6 s, an exponential follow). */
const SETTLE_MS = 3000;

const status = (page: Page) => page.evaluate(() => window.__controller?.status ?? null) as Promise<TabletStatus | null>;

describe.skipIf(!chromium)('visitor tablet', { timeout: 120_000 }, () => {
  let server: RunningServer;
  let tablets: Awaited<ReturnType<typeof launchTablets>>;
  let displayContext: BrowserContext;
  let display: Page;
  let a: Tablet;
  let b: Tablet;
  let models: Awaited<ReturnType<typeof modelsWithDirections>>;
  let probe: TestSocket;
  let latest: FrameMeta | null = null;

  /** The plane once it has not changed for 300 ms (a drag's streamed updates have all arrived). */
  const settledPlane = async () => {
    let last = JSON.stringify(server.store.state.plane);
    for (let waited = 0; waited < 10_000; waited += 300) {
      await new Promise((r) => setTimeout(r, 300));
      const now = JSON.stringify(server.store.state.plane);
      if (now === last) return { ...server.store.state.plane };
      last = now;
    }
    throw new Error(`the plane kept changing for 10 s (last ${last})`);
  };

  beforeAll(async () => {
    await ensurePagesBuilt();
    await mkdir(SHOTS, { recursive: true });
    models = await modelsWithDirections();
    server = await startTestServer({
      modelsDir: models.dir,
      // With an admin token, tokenless tablets are visitors even on this machine: turns apply.
      adminToken: 'tablet-test-admin-token',
      attractIdleSeconds: 0,
      // Turns here end only by idleness, which the tests control. A's turn runs through the
      // earlier tests, so with a short turn B's refused touch would end it at the next tick
      // (B queued, A over time): B's "waiting" would last under a second, and a busy machine's
      // polling missed it (the turn-length rule has its own tests in test/unit/arbitration.test.ts).
      turnSeconds: 600,
      turnIdleSeconds: TURN_IDLE_S,
      capturesDir: await mkdtemp(join(tmpdir(), 'portraits-captures-')),
      debugFrameLatent: true,
      upscaler: 'off',
    });
    tablets = await launchTablets(chromium!);
    displayContext = await tablets.browser.newContext({ viewport: { width: 640, height: 640 } });
    display = await displayContext.newPage();
    await display.goto(`${server.url}/`);
    probe = await connect(server, 'display');
    probe.on('frame', (meta) => (latest = meta));
    a = await tablets.open(`${server.url}/controller/`, PORTRAIT);
    await a.page.waitForSelector('#connection[data-state="connected"]');
    await waitForFrames(display, 3);
  }, 180_000);

  afterAll(async () => {
    probe?.disconnect();
    await tablets?.browser.close();
    await server?.close();
  });

  it('renders candidate faces on the tablet, the same as the server renders them', async () => {
    const rendered = await a.page.evaluate(() => window.__controller!.rendered());
    const renderError = await a.page.evaluate(() => window.__controller!.renderError);
    expect(renderError).toBeNull();
    expect(rendered).toBe(true);
    const shown = await a.page.evaluate(() => window.__controller!.candidates());
    expect(shown).toHaveLength(5);
    const setup = (await (await fetch(`${server.url}/api/tablet`)).json()) as TabletSetup;
    const session = await createSession(join(models.dir, 'default-face', 'generator.onnx'), 'cpu');
    try {
      for (const face of shown.slice(0, 2)) {
        const z = seedToLatent(face.seed, setup.model.latentSize);
        // Fed as the tablet feeds its thumbnails: the gallery's default truncation, no mixing.
        const feeds = generatorFeeds(setup.model, z, 1, { truncation: DEFAULT_STATE.face.truncation, mix: 'off', mixSeed: 0 });
        const out = await session.run(floatFeeds(feeds));
        const server = out[setup.model.output]!.data as Float32Array;
        expect(face.raw.length).toBe(server.length);
        let worst = 0;
        for (let i = 0; i < server.length; i++) worst = Math.max(worst, Math.abs(server[i]! - face.raw[i]!));
        expect(worst, `seed ${face.seed}: tablet (onnxruntime-web) vs server (onnxruntime for Node)`).toBeLessThan(2e-3);
      }
    } finally {
      await session.release();
    }
    expect(latentDistance(shown[0]!.raw, shown[1]!.raw), 'different seeds make different faces').toBeGreaterThan(1);
    // Only the running generator's listed files are served.
    expect((await fetch(`${server.url}${setup.model.url}`)).status).toBe(200);
    expect((await fetch(`${server.url}/models/default-face/manifest.json`)).status).toBe(404);
    expect((await fetch(`${server.url}/models/default-face-critic/critic.onnx`)).status).toBe(404);
    expect((await fetch(`${server.url}/models/default-face/..%2F..%2Fpackage.json`)).status).toBe(404);
  });

  it('fits portrait and landscape tablets without scrolling, with large targets', async () => {
    for (const [name, viewport] of [['portrait', PORTRAIT], ['landscape', LANDSCAPE]] as const) {
      const t = await tablets.open(`${server.url}/controller/`, viewport);
      try {
        await t.page.waitForSelector('#connection[data-state="connected"]');
        await t.page.evaluate(() => window.__controller!.rendered());
        const keep: Record<string, { x: number; y: number }> = {};
        for (const tab of ['features', 'dream', 'faces']) {
          await t.page.tap(`#tab-${tab}`);
          await sleep(300);
          const layout = await t.page.evaluate(() => {
            const small = [...document.querySelectorAll<HTMLElement>('button, input[type=range]')]
              .filter((el) => el.offsetParent !== null && !el.closest('dialog'))
              .map((el) => ({ id: el.id || el.className, h: el.getBoundingClientRect().height, w: el.getBoundingClientRect().width }))
              .filter((r) => r.h < 44 || r.w < 44);
            const outside = [...document.querySelectorAll<HTMLElement>('main *')]
              .filter((el) => el.offsetParent !== null)
              .map((el) => ({ id: el.id || el.className, r: el.getBoundingClientRect() }))
              .filter(({ r }) => r.bottom > innerHeight + 0.5 || r.right > innerWidth + 0.5)
              .map(({ id }) => id);
            const pad = document.getElementById('pad')!.getBoundingClientRect();
            return { scrollH: document.documentElement.scrollHeight, scrollW: document.documentElement.scrollWidth, h: innerHeight, w: innerWidth, small, outside, pad: { w: pad.width, h: pad.height } };
          });
          expect(layout.scrollH, `${name}/${tab}: no vertical scroll`).toBeLessThanOrEqual(layout.h);
          expect(layout.scrollW, `${name}/${tab}: no horizontal scroll`).toBeLessThanOrEqual(layout.w);
          expect(layout.outside, `${name}/${tab}: everything on screen`).toEqual([]);
          expect(layout.small, `${name}/${tab}: touch targets of at least 44 px`).toEqual([]);
          expect(Math.abs(layout.pad.w - layout.pad.h), 'the pad is square').toBeLessThan(2);
          expect(layout.pad.w, 'the pad is large').toBeGreaterThan(Math.min(viewport.width, viewport.height) * 0.45);
          await t.page.screenshot({ path: join(SHOTS, `controller-${name}-${tab}.png`) });
          const placed = await t.page.evaluate(() => {
            const capture = document.getElementById('capture')!.getBoundingClientRect();
            const chips = [...document.querySelectorAll<HTMLElement>('#dream-styles .chip')].filter((el) => el.offsetParent !== null);
            return { capture: { x: Math.round(capture.x), y: Math.round(capture.y), top: capture.top }, chips: chips.map((c) => ({ text: c.textContent, bottom: c.getBoundingClientRect().bottom })) };
          });
          keep[tab] = { x: placed.capture.x, y: placed.capture.y };
          if (tab === 'dream') {
            // The visitor styles, named for what they paint, all above the Keep button.
            expect(placed.chips.map((c) => c.text)).toEqual(['Creatures', 'Eyes', 'Feathers', 'Dogs', 'Patterns', 'Strokes']);
            for (const c of placed.chips) expect(c.bottom, `${name}: the ${c.text} chip stays above Keep`).toBeLessThanOrEqual(placed.capture.top);
          }
        }
        // The Keep button stays in place whichever tab is open.
        expect(keep.dream, `${name}: Keep in place on the dream tab`).toEqual(keep.faces);
        expect(keep.features, `${name}: Keep in place on the features tab`).toEqual(keep.faces);
        expect(t.errors).toEqual([]);
      } finally {
        await t.close();
      }
    }
  });

  it('a pad drag morphs the face on the display', async () => {
    await sleep(SETTLE_MS);
    const still = await pictureStats(await display.screenshot());
    const before = await readDisplay(display);
    await touchDrag(a.page, await padPoint(a.page, 0.2, 0.25), await padPoint(a.page, 0.8, 0.7), 24);
    await waitUntil('the server follows the drag', () => server.store.state.mode === 'plane' && Math.abs(server.store.state.plane.x - (5.5 + 0.8 * 5)) < 0.2);
    expect(server.store.state.plane.y).toBeCloseTo(5.5 + 0.7 * 5, 0);
    // A drag is a stream: many state versions, not one jump.
    const versions = server.store.version;
    expect(versions - before.lastMeta!.stateVersion).toBeGreaterThan(3);
    expect(await status(a.page)).toMatchObject({ turn: 'yours' });
    await waitUntil('the display shows the plane', async () => (await readDisplay(display)).lastMeta!.mode === 'plane');
    await sleep(SETTLE_MS);
    const after = await pictureStats(await display.screenshot());
    expect(meanDifference(still, after)).toBeGreaterThan(3);
    expect(a.errors).toEqual([]);
  });

  it('a tap on a candidate face travels there', async () => {
    const seed = Number(await a.page.locator('.candidate').nth(2).getAttribute('data-seed'));
    await a.page.locator('.candidate').nth(2).tap();
    await waitUntil('the server travels to the face', () => server.store.state.mode === 'seed' && server.store.state.seed === seed);
    await waitUntil('the display shows it', async () => (await readDisplay(display)).lastMeta!.seeds.join() === `${seed},${seed}`);
    await a.page.waitForSelector(`.candidate.chosen[data-seed="${seed}"]`);
  });

  it('a direction slider moves the latent along its direction', async () => {
    await sleep(SETTLE_MS);
    const base = latest!.latent!;
    await a.page.tap('#tab-features');
    const slider = a.page.locator('#direction-age');
    const box = (await slider.boundingBox())!;
    await touchDrag(a.page, { x: box.x + box.width / 2, y: box.y + box.height / 2 }, { x: box.x + box.width * 0.9, y: box.y + box.height / 2 }, 16);
    await waitUntil('the server has the age value', () => (server.store.state.directions.age ?? 0) > 0.5);
    const value = server.store.state.directions.age!;
    const d = models.vectors.age!;
    const along = () => {
      const moved = latest!.latent!;
      let dot = 0;
      let dd = 0;
      for (let i = 0; i < d.length; i++) {
        dot += (moved[i]! - base[i]!) * d[i]!;
        dd += d[i]! * d[i]!;
      }
      return dot / dd;
    };
    // The target moved by value x d (the seed mode's target is fixed otherwise); the glide gets there.
    await waitUntil('the face glides along the direction', () => Math.abs(along() - value) < 0.03, 30_000).catch((err: Error) => {
      throw new Error(`${err.message}: moved ${along().toFixed(3)} of ${value}`);
    });
    expect(Number(await slider.inputValue())).toBeCloseTo(value, 1);
    await a.page.tap('#directions-reset');
    await waitUntil('the reset reaches the server', () => server.store.state.directions.age === 0);
    await a.page.tap('#tab-faces');
  });

  it('two tablets take turns, and a flooding socket is held to its budget', async () => {
    b = await tablets.open(`${server.url}/controller/`, LANDSCAPE);
    await b.page.waitForSelector('#connection[data-state="connected"]');
    // B's page is ready for a touch (its faces drawn) before A starts: on a busy machine that
    // can take longer than A's idle grace, and A's turn would lapse before B touches.
    await b.page.evaluate(() => window.__controller!.rendered());
    // A steers; B's drag is refused, puts B in the queue, and changes nothing.
    await touchDrag(a.page, await padPoint(a.page, 0.3, 0.3), await padPoint(a.page, 0.4, 0.35), 6);
    await waitUntil('A steers', () => Math.abs(server.store.state.plane.x - (5.5 + 0.4 * 5)) < 0.1);
    // The drag's last streamed updates may still be on their way: hold the plane once it rests.
    const held = await settledPlane();
    await waitUntil('B is told A is steering', async () => (await status(b.page))?.turn === 'watching');
    // A touches the pad where it let go (the same plane, so nothing moves): on a busy machine the
    // waits above can outlast A's idle grace, and B must meet A's turn, not a lapsed one.
    const aRests = await padPoint(a.page, 0.4, 0.35);
    await touchDrag(a.page, aRests, aRests, 2);
    const shownBefore = (await b.page.evaluate(() => window.__controller!.shown())).length;
    const aShownBefore = (await a.page.evaluate(() => window.__controller!.shown())).length;
    await touchDrag(b.page, await padPoint(b.page, 0.9, 0.9), await padPoint(b.page, 0.95, 0.95), 6);
    // What B was shown since its touch: read from B's own log, since on a busy machine the
    // "waiting" lines can come and go (A's idle grace is TURN_IDLE_S) between two polls.
    const shownSince = async () => (await b.page.evaluate(() => window.__controller!.shown())).slice(shownBefore);
    await waitUntil('B is told to wait', async () => (await shownSince()).some((s) => s.tone === 'wait' && /You are next/.test(s.turn)), 10_000).catch(async (err: Error) => {
      throw new Error(`${err.message}; B was shown ${JSON.stringify(await shownSince())}; plane ${JSON.stringify(server.store.state.plane)} (A left it at ${JSON.stringify(held)})`);
    });
    await waitUntil('B is told why', async () => (await shownSince()).some((s) => /Another visitor is steering/.test(s.message)), 10_000);
    expect(server.store.state.plane).toEqual(held);

    // A walks away: after its idle time the turn is B's, and B says so.
    await waitUntil("B is told it is B's turn", async () => (await shownSince()).some((s) => s.tone === 'yours'), (TURN_IDLE_S + 5) * 1000);
    const aShown = (await a.page.evaluate(() => window.__controller!.shown())).slice(aShownBefore);
    expect(aShown.some((s) => /Touch any control to join the queue/.test(s.turn)), JSON.stringify(aShown)).toBe(true);

    // B takes its turn at once (it would lapse after TURN_IDLE_S untouched).
    await touchDrag(b.page, await padPoint(b.page, 0.5, 0.5), await padPoint(b.page, 0.55, 0.55), 4);
    await waitUntil("B's first drag arrived", () => Math.abs(server.store.state.plane.x - (5.5 + 0.55 * 5)) < 0.1);

    // While a script floods the server, B still steers; the flood mostly bounces off the budget.
    const flooder = await connect(server, 'controller');
    const FLOOD = 600;
    const answers: Promise<string>[] = [];
    const started = performance.now();
    const flood = (async () => {
      for (let i = 0; i < FLOOD; i++) {
        answers.push(new Promise((resolve) => flooder.emit('patch', { plane: { x: 1, y: 1 } }, (ack) => resolve(ack.ok ? 'ok' : `${ack.code} ${ack.error}`))));
        if (i % 50 === 0) await sleep(1);
      }
    })();
    await touchDrag(b.page, await padPoint(b.page, 0.6, 0.6), await padPoint(b.page, 0.7, 0.65), 8);
    await flood;
    const results = await Promise.all(answers);
    const seconds = (performance.now() - started) / 1000;
    flooder.disconnect();
    const slowed = results.filter((r) => r === `rate-limited ${SLOW_DOWN}`).length;
    const accepted = results.filter((r) => r === 'ok').length;
    expect(accepted, 'the flooder never had the turn').toBe(0);
    // The budget: bursts of 2 x rate, then `rate` a second; everything beyond bounced before any handler ran.
    const rate = server.config.socketEventRate;
    expect(FLOOD - slowed, `${FLOOD} events in ${seconds.toFixed(1)} s`).toBeLessThanOrEqual(Math.ceil(2 * rate + rate * seconds) + 1);
    expect(slowed).toBeGreaterThan(0);
    await waitUntil("B's drag arrived", () => Math.abs(server.store.state.plane.x - (5.5 + 0.7 * 5)) < 0.1);
    expect(server.store.state.plane.y).toBeCloseTo(5.5 + 0.65 * 5, 1);
    expect(b.errors).toEqual([]);
  });

  it('captures the portrait: a QR code to a page where it can be downloaded', async () => {
    await a.page.tap('#capture');
    await a.page.waitForSelector('#capture-dialog[open]');
    const href = await a.page.getAttribute('#capture-link', 'href');
    const qr = await a.page.getAttribute('#capture-qr', 'src');
    await a.page.screenshot({ path: join(SHOTS, 'controller-capture.png') });
    expect(href).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/captures\/\d{8}-\d{6}-[0-9a-f]{6}$/);
    // The QR code encodes exactly that link.
    const expected = await QRCode.toString(href!, { type: 'svg', errorCorrectionLevel: 'M', margin: 2, color: { dark: '#000000', light: '#ffffff' } });
    expect(Buffer.from(qr!.replace(/^data:image\/svg\+xml;base64,/, ''), 'base64').toString()).toBe(expected);

    const page = await (await fetch(href!)).text();
    expect(page).toMatch(/AI-generated/);
    const png = await fetch(`${href}.png`);
    expect(png.status).toBe(200);
    expect(png.headers.get('content-type')).toBe('image/png');
    const image = await sharp(Buffer.from(await png.arrayBuffer())).stats();
    const meta = await sharp(Buffer.from(await (await fetch(`${href}.png`)).arrayBuffer())).metadata();
    expect(meta.width).toBe(server.config.frameSize);
    expect(Math.max(...image.channels.map((c) => c.stdev))).toBeGreaterThan(10);
    const sidecar = (await (await fetch(`${href}.json`)).json()) as Record<string, unknown>;
    expect(sidecar).toMatchObject({ aiGenerated: true, model: { id: 'default-face' }, image: expect.stringMatching(/\.png$/) });
    expect((sidecar.latent as number[]).length).toBe(128);
    expect(sidecar.settings).toMatchObject({ mode: server.store.state.mode, directions: expect.any(Object) });

    // The large print follows in the background, and then the page offers it.
    await waitUntil('the capture print', async () => (await fetch(`${href}-print.png`)).status === 200, 90_000);
    const print = await sharp(Buffer.from(await (await fetch(`${href}-print.png`)).arrayBuffer())).metadata();
    expect([print.format, print.width, print.height]).toEqual(['png', server.config.capturePrintSize, server.config.capturePrintSize]);
    expect(print.xmp?.toString('utf8')).toContain('capture print');
    expect(await (await fetch(href!)).text()).toContain(`Download the print (${server.config.capturePrintSize} px)`);

    // A phone opening the link sees the picture.
    const phone = await tablets.open(href!, { width: 390, height: 800 });
    await phone.page.waitForFunction(() => (document.querySelector('img') as HTMLImageElement | null)?.naturalWidth ?? 0 > 0);
    await phone.page.screenshot({ path: join(SHOTS, 'capture-page-phone.png') });
    await phone.close();
    await a.page.tap('#capture-close');
    await a.page.waitForSelector('#capture-dialog:not([open])', { state: 'attached' });

    // Nothing but capture ids is ever read.
    for (const bad of ['..%2F..%2Fpackage.json', '20260101-000000-zzzzzz.png', '20260101-000000-abcdef.png', 'page.css.map']) {
      expect((await fetch(`${server.url}/captures/${bad}`)).status, bad).toBe(404);
    }
    expect(a.errors).toEqual([]);
  });
});
