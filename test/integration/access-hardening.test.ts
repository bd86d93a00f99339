/**
 * HTTP and socket hardening on the real server: security headers and a content-security
 * policy the real pages run under (in Chromium, no violations), body caps, rate limits,
 * per-socket event budgets, names that cannot leave their folder, errors without stacks.
 */
import dgram from 'node:dgram';
import { mkdtemp, readdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../server/app.js';
import { ConfigError, resolveConfig } from '../../server/config.js';
import { MAX_BODY_BYTES } from '../../server/inputs/http-hardening.js';
import { SLOW_DOWN } from '../../server/inputs/socket-limits.js';
import { encodeMessage } from '../../server/osc/codec.js';
import { connect, emitAck, startTestServer, type TestSocket } from '../support/server.js';
import { tinyModelsDir } from '../support/tiny-generator.js';
import { chromiumPath, launchBrowser } from '../support/browser.js';
import { ensurePagesBuilt } from '../e2e/pages.js';

let server: RunningServer;
let presetsDir: string;
const sockets: TestSocket[] = [];

beforeAll(async () => {
  presetsDir = join(await mkdtemp(join(tmpdir(), 'portraits-hardening-')), 'presets');
  server = await startTestServer({ modelsDir: await tinyModelsDir(), presetsDir, httpRateLimit: 100_000 });
});

afterAll(async () => {
  for (const s of sockets) s.disconnect();
  await server?.close();
});

/** A raw request (fetch would normalise the dots and encodings these tests need to send). */
function raw(path: string, opts: { method?: string; headers?: Record<string, string>; body?: Buffer | string } = {}): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(server.url + '/', { method: opts.method ?? 'GET', path, headers: opts.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

describe('security headers', () => {
  it('the pages carry a content-security policy and the usual protective headers', async () => {
    const res = await raw('/');
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self' 'wasm-unsafe-eval'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("object-src 'none'");
    expect(csp).not.toContain('upgrade-insecure-requests');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['x-powered-by']).toBeUndefined();
    expect(res.headers['strict-transport-security']).toBeUndefined();
    const api = await raw('/api/state');
    expect(api.headers['content-security-policy']).toBeDefined();
  });

  const chromium = chromiumPath();
  it.skipIf(!chromium)('the real display and controller pages work under it: frames drawn, socket connected, no violation', { timeout: 120_000 }, async () => {
    await ensurePagesBuilt();
    const pages = await startTestServer({ modelsDir: await tinyModelsDir(), presetsDir: join(presetsDir, 'pages') });
    const browser = await launchBrowser(chromium!);
    try {
      await browser.context.addInitScript(() => {
        const seen: string[] = ((window as unknown as { __csp: string[] }).__csp = []);
        document.addEventListener('securitypolicyviolation', (e) => seen.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber} ${e.sample}`));
      });
      const consoleCsp: string[] = [];
      browser.context.on('console', (m) => {
        if (/Content Security Policy/i.test(m.text())) consoleCsp.push(m.text());
      });
      const display = await browser.open(`${pages.url}/`, { width: 640, height: 360 });
      await display.page.waitForFunction(() => (window.__display?.framesReceived ?? 0) >= 5, undefined, { timeout: 60_000 });
      const controller = await browser.open(`${pages.url}/controller/`, { width: 800, height: 1000 });
      await controller.page.waitForSelector('#connection[data-state="connected"]', { timeout: 30_000 });
      await controller.page.click('#new-face');
      // Not even zod's eval probe: the pages configure zod without its compiled parser (common/state.ts).
      for (const page of [display, controller]) {
        const violations = await page.page.evaluate(() => (window as unknown as { __csp: string[] }).__csp);
        expect(violations).toEqual([]);
      }
      expect(consoleCsp).toEqual([]);
      expect([...display.errors, ...controller.errors]).toEqual([]);
    } finally {
      await browser.close();
      await pages.close();
    }
  });
});

describe('bodies, errors and names', () => {
  it('oversized bodies are refused with 413 before they are read; the JSON API takes 16 KB', async () => {
    const big = await raw('/api/state', { method: 'PATCH', headers: { 'content-type': 'application/json', 'content-length': String(MAX_BODY_BYTES + 1) }, body: 'x'.repeat(MAX_BODY_BYTES + 1) });
    expect(big.status).toBe(413);
    const json = JSON.stringify({ walk: { seed: 1 }, pad: 'x'.repeat(20_000) });
    const mid = await raw('/api/state', { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: json });
    expect(mid.status).toBe(413);
    expect(JSON.parse(mid.body)).toMatchObject({ ok: false, code: 'too-large' });
  });

  it('malformed requests get a short 4xx, never a stack trace', async () => {
    for (const [path, init] of [
      ['/%E0%A4%A', {}],
      ['/api/presets/%E0%A4%A', {}],
      ['/api/state', { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: '{"walk":' }],
      ['/api/state', { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: '{"__proto__":{"x":1}}' }],
    ] as const) {
      const res = await raw(path, init as Parameters<typeof raw>[1]);
      expect(res.status, path).toBeGreaterThanOrEqual(400);
      expect(res.status, path).toBeLessThan(500);
      expect(res.body, path).not.toMatch(/at .*\.(ts|js):\d+/);
      expect(res.body, path).not.toMatch(/node_modules/);
    }
  });

  it('no path leaves its folder: pages, preset names over HTTP, socket.io and OSC, model names', async () => {
    const secret = join(dirname(server.config.pagesDir), '..', 'package.json');
    expect(existsSync(secret)).toBe(true);
    for (const path of ['/../package.json', '/..%2f..%2fpackage.json', '/assets/..%2f..%2f..%2fpackage.json', '/%2e%2e/%2e%2e/package.json', '/controller/..%5c..%5cpackage.json', '/.%2e/.%2e/package.json']) {
      const res = await raw(path);
      expect(res.body, path).not.toContain('"devDependencies"');
    }
    for (const name of ['..%2f..%2fevil', '..', '.hidden', '%2e%2e%2fx', 'a%00b', 'x'.repeat(65), 'a%2Fb', '..%5cevil']) {
      const res = await raw(`/api/presets/${name}`, { method: 'PUT' });
      expect(res.status, name).toBeGreaterThanOrEqual(400);
      expect(res.status, name).toBeLessThan(500);
    }
    const controller = await connect(server, 'controller');
    sockets.push(controller);
    for (const name of ['../evil', '/etc/passwd', 'a/b', '..\\evil', 'nul\u0000', ' spaced ']) {
      const ack = await new Promise<{ ok: boolean }>((r) => controller.emit('preset', { op: 'save', name }, r));
      expect(ack.ok, name).toBe(false);
    }
    const udp = dgram.createSocket('udp4');
    for (const name of ['../evil', '../../tmp/x', 'a/b']) {
      await new Promise<void>((r) => udp.send(encodeMessage('/portraits/preset/save', [{ type: 's', value: name }]), server.osc!.port, '127.0.0.1', () => r()));
    }
    await new Promise((r) => setTimeout(r, 300));
    udp.close();
    const parent = dirname(presetsDir);
    expect((await readdir(parent)).filter((f) => f !== 'presets')).toEqual([]);
    expect(existsSync(presetsDir) ? await readdir(presetsDir) : []).toEqual([]);
    for (const model of ['../../etc', '..', 'a/b', '/abs']) expect(() => resolveConfig({ model }, {})).toThrow(ConfigError);
  });
});

describe('rate limits', () => {
  it('HTTP: an address over its per-minute budget gets 429 with the standard RateLimit headers', async () => {
    const limited = await startTestServer({ modelsDir: await tinyModelsDir(), presetsDir: join(presetsDir, 'limited'), httpRateLimit: 30 });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 35; i++) statuses.push((await fetch(`${limited.url}/api/state`)).status);
      expect(statuses.slice(0, 30).every((s) => s === 200)).toBe(true);
      const last = await fetch(`${limited.url}/api/state`);
      expect(last.status).toBe(429);
      expect(last.headers.get('ratelimit-policy')).toMatch(/30/);
      expect(await last.json()).toMatchObject({ ok: false, code: 'rate-limited', error: expect.stringMatching(/too many requests/) });
    } finally {
      await limited.close();
    }
  });

  it('socket.io: a flooding socket is told to slow down, others are unaffected, and it recovers', async () => {
    const flooder = await connect(server, 'controller');
    const calm = await connect(server, 'controller');
    sockets.push(flooder, calm);
    const acks = await Promise.all(Array.from({ length: 400 }, (_, i) => emitAck(flooder, 'patch', { walk: { speed: (i % 100) / 100 } })));
    const refused = acks.filter((a) => !a.ok && a.code === 'rate-limited' && a.error === SLOW_DOWN).length;
    const accepted = acks.filter((a) => a.ok).length;
    // Default budget: 60 a second, bursts of 120.
    expect(accepted).toBeGreaterThanOrEqual(120);
    expect(accepted).toBeLessThan(200);
    expect(refused).toBe(400 - accepted);
    expect(await emitAck(calm, 'patch', { walk: { speed: 0.3 } })).toMatchObject({ ok: true });
    await new Promise((r) => setTimeout(r, 1100));
    expect(await emitAck(flooder, 'patch', { walk: { speed: 0.2 } })).toMatchObject({ ok: true });
  });
});
