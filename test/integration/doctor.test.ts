/**
 * /health and `portraits doctor` against a real server (tiny random-weight generator,
 * real socket.io displays sending heartbeats), and the doctor against broken model
 * folders, including the CLI's exit code.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDoctor, type Finding } from '../../cli/commands/doctor.js';
import { listeningPorts } from '../../cli/find-server.js';
import { createServer } from 'node:net';
import type { Heartbeat } from '../../common/protocol.js';
import type { RunningServer } from '../../server/app.js';
import { ROOT_DIR } from '../../server/config.js';
import { connect, startTestServer, type TestSocket } from '../support/server.js';
import { tinyModelsDir } from '../support/tiny-generator.js';

const HARDWARE = 'ANGLE (Intel, Mesa Intel(R) UHD Graphics 620 (KBL GT2), OpenGL 4.6)';
const SOFTWARE = 'ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero) (0x0000C0DE)), SwiftShader driver)';

let server: RunningServer;
let modelsDir: string;
const sockets: TestSocket[] = [];
const timers: NodeJS.Timeout[] = [];

interface Health {
  status: string;
  reasons: string[];
  open: boolean;
  displays: number;
  heartbeats: { id: string; renderer: string | null; software: boolean; stale: boolean; fps: number | null; frames: number | null }[];
}
const health = async () => (await (await fetch(`${server.url}/health`)).json()) as Health;

/** A display that sends a heartbeat now and then every `everyMs` (never, if 0). */
async function display(beat: Heartbeat | null, everyMs = 250): Promise<TestSocket> {
  const socket = await connect(server, 'display');
  sockets.push(socket);
  if (beat) {
    socket.emit('heartbeat', beat);
    if (everyMs) timers.push(setInterval(() => socket.emit('heartbeat', beat), everyMs));
  }
  return socket;
}

const until = async (what: string, test: () => Promise<boolean>, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!(await test())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(await health())}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

const doctorEnv = { ...process.env, PORTRAITS_CONFIG: '' };
const freePort = () =>
  new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
const byCheck = (findings: Finding[], check: string) => findings.filter((f) => f.check === check);

beforeAll(async () => {
  modelsDir = await tinyModelsDir();
  server = await startTestServer({ modelsDir, frameSize: 32, fps: 5, heartbeatStaleSeconds: 1 });
});

afterAll(async () => {
  for (const t of timers) clearInterval(t);
  for (const s of sockets) s.disconnect();
  await server?.close();
});

describe('/health', () => {
  it('is ok with no display, and open without a schedule', async () => {
    expect(await health()).toMatchObject({ status: 'ok', reasons: [], open: true, displays: 0, heartbeats: [] });
  });

  it('shows a display with a hardware adapter as alive', async () => {
    await display({ fps: 60, frames: 3, renderer: HARDWARE });
    await until('the heartbeat', async () => (await health()).heartbeats[0]?.renderer === HARDWARE);
    const h = await health();
    expect(h).toMatchObject({ status: 'ok', reasons: [], displays: 1 });
    expect(h.heartbeats[0]).toMatchObject({ software: false, stale: false, fps: 60, frames: 3 });
  });

  it('is degraded while a display draws with a software adapter, and recovers when it leaves', async () => {
    const soft = await display({ fps: 20, frames: 1, renderer: SOFTWARE });
    await until('degraded', async () => (await health()).status === 'degraded');
    const h = await health();
    expect(h.reasons).toHaveLength(1);
    expect(h.reasons[0]).toMatch(/software GPU adapter \(ANGLE \(Google, Vulkan 1\.3\.0 \(SwiftShader/);
    soft.disconnect();
    await until('ok again', async () => (await health()).status === 'ok');
  });

  it('ignores malformed heartbeats without dropping the display', async () => {
    const odd = await display(null);
    const raw = odd as unknown as { emit: (...a: unknown[]) => void };
    raw.emit('heartbeat', { fps: 'fast', frames: -1 });
    raw.emit('heartbeat', 'x'.repeat(1000));
    raw.emit('heartbeat');
    await new Promise((r) => setTimeout(r, 200));
    expect(odd.connected).toBe(true);
    expect((await health()).heartbeats.find((b) => b.id === odd.id)).toMatchObject({ fps: null, frames: null, renderer: null });
    odd.disconnect();
  });

  it('reports a display that went silent as stale, and the doctor calls it an error', async () => {
    const silent = await display(null);
    await until('stale', async () => (await health()).reasons.some((r) => /has sent no heartbeat for \d+ s/.test(r)));
    expect((await health()).status).toBe('degraded');
    const findings = await runDoctor({ overrides: { modelsDir, port: String(server.port), host: '127.0.0.1' }, env: doctorEnv });
    expect(byCheck(findings, 'display').some((f) => f.level === 'error' && /stopped sending heartbeats/.test(f.message))).toBe(true);
    silent.disconnect();
    await until('ok again', async () => (await health()).status === 'ok');
  });
});

describe('portraits doctor', () => {
  it('against a running server: model, provider, port and display checks pass', async () => {
    const lines: string[] = [];
    const findings = await runDoctor({ overrides: { modelsDir, port: String(server.port), host: '127.0.0.1' }, env: doctorEnv }, (l) => lines.push(l));
    expect(byCheck(findings, 'node')).toMatchObject([{ level: 'ok' }]);
    expect(byCheck(findings, 'config')).toMatchObject([{ level: 'ok' }]);
    expect(byCheck(findings, 'model')).toMatchObject([{ level: 'ok', message: expect.stringMatching(/manifest valid, ONNX loads and generates a 16x16 test frame/) }]);
    // No GPU on the test machines: the CPU fallback is a warning, never an error.
    expect(byCheck(findings, 'provider').every((f) => f.level !== 'error')).toBe(true);
    expect(byCheck(findings, 'provider')[0]!.message).toMatch(/generation runs on (the CPU|webgpu)/);
    expect(byCheck(findings, 'ports')[0]).toMatchObject({ level: 'ok', message: `HTTP port ${server.port} is in use by the running Portraits server` });
    expect(byCheck(findings, 'display')).toMatchObject([{ level: 'ok', message: expect.stringMatching(/is alive on ANGLE \(Intel/) }]);
    expect(lines.join('\n')).toMatch(/^ {2}ok {5}model/m);
  });

  it('finds a server started on another port than the configured one, and judges the picture size', async () => {
    expect(listeningPorts()).toContain(server.port);
    const free = await freePort();
    await display({ fps: 60, frames: 3, renderer: HARDWARE, screen: { width: 1920, height: 1080 } });
    await until('the screen size', async () => JSON.stringify((await health()).heartbeats).includes('1080'));
    // The configuration names a port nobody listens on; the server runs elsewhere (PORT=18555 npm start).
    const findings = await runDoctor({ overrides: { modelsDir, port: String(free), host: '127.0.0.1' }, env: doctorEnv, discover: [free + 1, server.port] });
    expect(byCheck(findings, 'server')).toMatchObject([{ level: 'ok', message: expect.stringContaining(`found the running Portraits server at http://127.0.0.1:${server.port}`) }]);
    expect(byCheck(findings, 'ports').filter((f) => f.level === 'error')).toEqual([]);
    expect(byCheck(findings, 'display').some((f) => f.level === 'ok' && /is alive/.test(f.message))).toBe(true);
    const picture = byCheck(findings, 'picture');
    expect(picture[0]).toMatchObject({ level: 'ok', message: 'model default-face paints 16 px faces; frames are 32 px' });
    expect(picture.find((f) => f.message.includes('1920x1080'))).toMatchObject({ level: 'warn', message: expect.stringMatching(/32 px frames 1080 px tall .*33\.8x enlarged/), fix: expect.stringMatching(/"frameSize" to 512/) });
  });

  it('says when no server answers and when Chromium is missing', async () => {
    const findings = await runDoctor({ overrides: { modelsDir, port: '0' }, url: 'http://127.0.0.1:9', env: { ...doctorEnv, PORTRAITS_CHROMIUM: '/nonexistent/chromium' } });
    expect(byCheck(findings, 'display')).toMatchObject([{ level: 'warn', message: 'no Portraits server answers at http://127.0.0.1:9/health' }]);
    expect(byCheck(findings, 'chromium')).toMatchObject([{ level: 'error', fix: expect.stringMatching(/apt-get install chromium/) }]);
    // The tiny models folder has no dream network: dreaming is off, a warning that says how to restore it.
    expect(byCheck(findings, 'dream')).toMatchObject([{ level: 'warn', fix: expect.stringMatching(/git checkout -- models\/darknet-tiny/) }]);
  });

  it('checks the shipped dream network: its styles compile and take a step', async () => {
    const findings = await runDoctor({ overrides: { modelsDir: join(ROOT_DIR, 'models'), port: '0' }, url: 'http://127.0.0.1:9', env: doctorEnv, discover: false });
    expect(byCheck(findings, 'dream')).toMatchObject([{ level: 'ok', message: expect.stringMatching(/^darknet-tiny: styles creatures, eyes, feathers, dogs, patterns, strokes; 'creatures' compiles and dreams a test step/) }]);
  });

  it('names the broken piece of a models folder', async () => {
    const broken = mkdtempSync(join(tmpdir(), 'portraits-broken-'));
    mkdirSync(join(broken, 'default-face'));
    writeFileSync(join(broken, 'default-face', 'manifest.json'), '{ "id": "default-face", ');
    let findings = await runDoctor({ overrides: { modelsDir: broken, port: '0' }, env: doctorEnv });
    expect(byCheck(findings, 'model')[0]).toMatchObject({ level: 'error', message: expect.stringMatching(/manifest\.json: .*JSON/) });
    expect(byCheck(findings, 'provider')).toMatchObject([{ level: 'error', message: 'skipped: no model could be loaded' }]);

    // A valid manifest whose ONNX file is garbage.
    const damaged = await tinyModelsDir('default-face', mkdtempSync(join(tmpdir(), 'portraits-damaged-')));
    writeFileSync(join(damaged, 'default-face', 'generator.onnx'), 'not a model');
    findings = await runDoctor({ overrides: { modelsDir: damaged, port: '0' }, env: doctorEnv });
    expect(byCheck(findings, 'model').some((f) => f.level === 'error' && /not a loadable ONNX model/.test(f.message))).toBe(true);
  });

  it('the CLI exits 1 on errors and prints what to fix', () => {
    const broken = mkdtempSync(join(tmpdir(), 'portraits-empty-'));
    const r = spawnSync(process.execPath, [join(ROOT_DIR, 'bin', 'portraits.js'), 'doctor', '--models-dir', broken, '--port', '0', '--json'], {
      encoding: 'utf8',
      env: doctorEnv,
      timeout: 60_000,
    });
    expect(r.status).toBe(1);
    const out = JSON.parse(r.stdout) as { ok: boolean; errors: number; findings: Finding[] };
    expect(out.ok).toBe(false);
    expect(out.errors).toBeGreaterThan(0);
    expect(out.findings.find((f) => f.check === 'model' && f.fix)?.fix).toMatch(/modelsDir/);
  });
});
