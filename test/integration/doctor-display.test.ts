/**
 * The real display page in headless Chromium sends heartbeats: the server's /health
 * lists it with the WebGL adapter it reports. Headless Chromium draws with SwiftShader,
 * a software adapter, so /health must say 'degraded' for exactly that reason, and the
 * doctor must warn about it: the check a technician relies on, end to end.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDoctor } from '../../cli/commands/doctor.js';
import type { RunningServer } from '../../server/app.js';
import { chromiumPath, launchBrowser, type TestBrowser } from '../support/browser.js';
import { startTestServer } from '../support/server.js';
import { tinyModelsDir } from '../support/tiny-generator.js';
import { ensurePagesBuilt } from '../e2e/pages.js';

const chromium = chromiumPath();
let server: RunningServer | null = null;
let browser: TestBrowser | null = null;
let modelsDir = '';

beforeAll(async () => {
  if (!chromium) return;
  await ensurePagesBuilt();
  modelsDir = await tinyModelsDir();
  server = await startTestServer({ modelsDir, frameSize: 32, fps: 5 });
  browser = await launchBrowser(chromium);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('display heartbeats from the real page', () => {
  it('reach /health with the WebGL adapter, and a software adapter is reported', async () => {
    if (!server || !browser) return;
    const { errors } = await browser.open(`${server.url}/`);
    type Health = { status: string; reasons: string[]; heartbeats: { renderer: string | null; software: boolean }[] };
    let health: Health = { status: '', reasons: [], heartbeats: [] };
    const end = Date.now() + 20_000;
    while (Date.now() < end) {
      health = (await (await fetch(`${server.url}/health`)).json()) as Health;
      if (health.heartbeats[0]?.renderer) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(errors).toEqual([]);
    expect(health.heartbeats).toHaveLength(1);
    expect(health.heartbeats[0]!.renderer).toMatch(/SwiftShader/i);
    expect(health.heartbeats[0]!.software).toBe(true);
    expect(health.status).toBe('degraded');
    expect(health.reasons.join('\n')).toMatch(/software GPU adapter/);

    const findings = await runDoctor({ overrides: { modelsDir, port: String(server.port), host: '127.0.0.1' }, env: { ...process.env, PORTRAITS_CONFIG: '' } });
    expect(findings.filter((f) => f.check === 'display')).toMatchObject([{ level: 'warn', message: expect.stringMatching(/draws with a software adapter: .*SwiftShader/i) }]);
  });
});
