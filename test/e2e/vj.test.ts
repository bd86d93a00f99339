/**
 * The VJ page (/vj/) in a real browser against the real server: MIDI learn from a MIDI
 * message, soft takeover, the parameter moving with the control, the live meters, tap tempo
 * and its source,
 * and a visitor (no admin token) being told the page is not theirs. Screenshot:
 * docs/images/vj-page.png (and /tmp/vj-shots).
 *
 * This machine has no MIDI device, so the test installs a stand-in Web MIDI access before the
 * page loads: one input port that dispatches real MIDIMessageEvents carrying the bytes a
 * controller sends. From the port's 'midimessage' event on, the page's code path is the one a
 * device takes (vj/midi-input.ts, then common/midi.ts).
 */
import { mkdir } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TabletSetup } from '../../common/protocol.js';
import type { RunningServer } from '../../server/app.js';
import { chromiumPath, launchBrowser, type TestBrowser } from '../support/browser.js';
import { startTestServer } from '../support/server.js';
import { sleep } from './display-hook.js';
import { ensurePagesBuilt } from './pages.js';
import type { Page } from 'playwright-core';
import { waitUntil } from '../support/wait.js';

const chromium = chromiumPath();
const TOKEN = 'e2e-vj-admin-token';
const SHOTS = '/tmp/vj-shots';
const DOC_SHOT = new URL('../../docs/images/vj-page.png', import.meta.url).pathname;

/** Runs in the page before its scripts: a Web MIDI access with one input port the test plays. */
function installMidiDevice(): void {
  const input = Object.assign(new EventTarget(), { id: 'stand-in-1', name: 'Test controller (stand-in)', manufacturer: 'tests', type: 'input', state: 'connected', connection: 'open' });
  const access = Object.assign(new EventTarget(), { inputs: new Map([[input.id, input]]), outputs: new Map(), sysexEnabled: false });
  Object.defineProperty(navigator, 'requestMIDIAccess', { value: async () => access, configurable: true });
  (window as unknown as { __midiDevice: unknown }).__midiDevice = {
    send(bytes: number[]) {
      input.dispatchEvent(new MIDIMessageEvent('midimessage', { data: new Uint8Array(bytes) }));
    },
  };
}

const play = (page: Page, bytes: number[]) => page.evaluate((b) => (window as unknown as { __midiDevice: { send(b: number[]): void } }).__midiDevice.send(b), bytes);


describe.skipIf(!chromium)('VJ page', { timeout: 90_000 }, () => {
  let server: RunningServer;
  let browser: TestBrowser;
  let page: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    await ensurePagesBuilt();
    await mkdir(SHOTS, { recursive: true });
    server = await startTestServer({ adminToken: TOKEN });
    const ack = server.store.apply(
      { modulation: { bpm: 90, routes: [{ source: 'lfo1', target: 'dream.strength', amount: 0.3, attack: 0, release: 0, curve: 'linear' }, { source: 'beat', target: 'display.blackout', amount: 0.1, attack: 0, release: 0.2, curve: 'linear' }] } },
      'http',
    );
    expect(ack.ok).toBe(true);
    browser = await launchBrowser(chromium!);
    page = await browser.context.newPage();
    page.on('pageerror', (e) => errors.push(e.stack ?? e.message));
    await page.addInitScript(installMidiDevice);
    await page.setViewportSize({ width: 1600, height: 1000 });
    await page.goto(`${server.url}/vj/?token=${TOKEN}`);
    await page.waitForSelector('#connection[data-state="connected"]');
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('finds the MIDI input, keeps the token out of the address bar, lists every parameter', async () => {
    await page.waitForSelector('#midi-status[data-state="ready"]');
    expect(await page.textContent('#midi-status')).toContain('Test controller (stand-in)');
    expect(page.url()).not.toContain('token');
    for (const path of ['dream.strength', 'walk.speed', 'face.truncation', 'visitorLock', 'dream.mode', 'display.blackout']) {
      expect(await page.locator(`tr[data-path="${path}"]`).count(), path).toBe(1);
    }
    // and the running model's semantic directions, from /api/tablet
    const setup = (await (await fetch(`${server.url}/api/tablet`)).json()) as TabletSetup;
    expect(setup.directions.length, 'the default model has named directions').toBeGreaterThan(0);
    for (const d of setup.directions) await page.waitForSelector(`tr[data-path="directions.${d.name}"]`);
  });

  it('learns a mapping from a MIDI message, then the control moves the parameter once it has picked it up', async () => {
    expect(server.store.state.walk.speed).toBeCloseTo(0.15, 9); // 0.075 of its 0..2 range: CC value 9.5
    await page.click('tr[data-path="walk.speed"] button:has-text("Learn")');
    expect(await page.getAttribute('tr[data-path="walk.speed"] button:has-text("Learn")', 'aria-pressed')).toBe('true');
    await play(page, [0xb0, 21, 2]); // CC 21 on channel 1, at 2/127
    await waitUntil('the mapping reaches the server', () => server.store.state.midi.mappings.length === 1);
    expect(server.store.state.midi.mappings[0]).toEqual({ kind: 'cc', channel: 0, number: 21, target: 'walk.speed' });
    await page.waitForSelector('tr[data-path="walk.speed"] .mapping:has-text("CC 21 ch 1")');

    // soft takeover: below the parameter the knob does nothing...
    await play(page, [0xb0, 21, 4]); // 0.031, more than 2 % below 0.075
    expect(await page.evaluate(() => window.__vj?.lastAction?.kind)).toBe('waiting');
    await sleep(300);
    expect(server.store.state.walk.speed).toBeCloseTo(0.15, 9);
    // ...until it passes it; from then on the parameter follows
    await play(page, [0xb0, 21, 12]);
    await waitUntil('walk.speed follows the knob', () => Math.abs(server.store.state.walk.speed - (12 / 127) * 2) < 1e-6);
    for (const v of [40, 80, 100]) await play(page, [0xb0, 21, v]);
    await waitUntil('walk.speed at the knob', () => Math.abs(server.store.state.walk.speed - (100 / 127) * 2) < 1e-6);

    // another control on another parameter: a pad toggles the caption
    await page.click('tr[data-path="display.caption"] button:has-text("Learn")');
    await play(page, [0x99, 36, 100]);
    await waitUntil('the pad mapping', () => server.store.state.midi.mappings.length === 2);
    await play(page, [0x89, 36, 0]);
    await play(page, [0x99, 36, 100]);
    await waitUntil('the pad toggles the caption', () => server.store.state.display.caption === true);
  });

  it('shows the meters live and taps the tempo', async () => {
    await waitUntil('meters arrive', async () => (await page.evaluate(() => window.__vj?.meters?.routes.length ?? 0)) === 2);
    const a = await page.evaluate(() => window.__vj!.meters!.sources.lfo1);
    await sleep(700);
    const b = await page.evaluate(() => window.__vj!.meters!.sources.lfo1);
    expect(a).not.toBe(b);
    expect(await page.locator('#routes canvas.spark').count()).toBe(2);
    expect(await page.locator('#sources canvas.spark').count()).toBe(10);

    // where the tempo comes from: the page's select is the state's modulation.tempoFrom
    await page.selectOption('#tempo-from', 'audio');
    await waitUntil('tempoFrom audio', () => server.store.state.modulation.tempoFrom === 'audio');
    expect(await page.textContent('#tracked')).toMatch(/no beat heard/); // the test server has no audio input
    await page.selectOption('#tempo-from', 'manual');
    await waitUntil('tempoFrom manual', () => server.store.state.modulation.tempoFrom === 'manual');

    // The server times the taps as they arrive, and a loaded machine stretches the clicks:
    // the tempo must lie between the widest and the narrowest gap the clicks could have made.
    expect(server.store.apply({ modulation: { bpm: 40 } }, 'http').ok).toBe(true);
    const firstStart = Date.now();
    await page.click('#tap');
    const firstEnd = Date.now();
    await sleep(500);
    const secondStart = Date.now();
    await page.click('#tap');
    const secondEnd = Date.now();
    const slowest = 60_000 / (secondEnd - firstStart) - 0.5;
    const fastest = 60_000 / Math.max(1, secondStart - firstEnd) + 0.5;
    await waitUntil('the tapped tempo', () => server.store.state.modulation.bpm !== 40);
    expect(server.store.state.modulation.bpm).toBeGreaterThanOrEqual(Math.min(slowest, 300));
    expect(server.store.state.modulation.bpm).toBeLessThanOrEqual(fastest);
    const tapped = Math.round(server.store.state.modulation.bpm);
    await page.waitForFunction((bpm) => Math.abs(Number(document.querySelector('#bpm')?.textContent) - bpm) <= 1, tapped);
    await sleep(1500); // sparklines fill
    const shot = await page.screenshot();
    await (await import('node:fs/promises')).writeFile(`${SHOTS}/vj-page.png`, shot);
    if (process.env.PORTRAITS_DOC_SHOTS === '1') await (await import('node:fs/promises')).writeFile(DOC_SHOT, shot);
    expect(errors).toEqual([]);
  });

  it('fits a portrait tablet without sideways scrolling (it is the tablet\'s admin view too)', async () => {
    await page.setViewportSize({ width: 820, height: 1180 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    expect(await page.isVisible('#tap')).toBe(true);
    await page.screenshot({ path: `${SHOTS}/vj-tablet.png` });
    await page.setViewportSize({ width: 1600, height: 1000 });
  });

  it('tells a visitor without the admin token that the page is not theirs', async () => {
    const visitor = await browser.context.newPage();
    await visitor.goto(`${server.url}/vj/`);
    // from this machine without a token, an adminToken server treats the page as a visitor
    await visitor.waitForSelector('#connection[data-state="error"]');
    expect(await visitor.textContent('#connection')).toMatch(/Not the VJ/);
    expect(await visitor.locator('tr[data-path="walk.speed"] .mapping').textContent()).toBe('');
    await visitor.close();
  });
});
