/** The /health verdict: software adapters, silent displays, and a falling frame rate after warm-up. */
import { describe, expect, it } from 'vitest';
import { FPS_GRACE_MS, assessHealth, isSoftwareRenderer, type DisplayReport } from '../../server/health.js';

const screen = (over: Partial<DisplayReport> = {}): DisplayReport => ({
  id: 'a',
  address: '127.0.0.1',
  silentFor: 1,
  stale: false,
  fps: 60,
  frames: 10,
  renderer: 'ANGLE (NVIDIA, NVIDIA GeForce GTX 1650 Direct3D11 vs_5_0 ps_5_0)',
  software: false,
  screen: null,
  ...over,
});
const base = { displays: [screen()], fps: 30, targetFps: 30, degradedFpsRatio: 0.5, generatingForMs: 60_000 };

describe('isSoftwareRenderer', () => {
  it('knows the software rasterizers', () => {
    for (const r of ['Google SwiftShader', 'ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero)), SwiftShader driver)', 'llvmpipe (LLVM 15.0.6, 256 bits)', 'Mesa softpipe', 'Microsoft Basic Render Driver']) {
      expect(isSoftwareRenderer(r)).toBe(true);
    }
    for (const r of ['Mesa Intel(R) UHD Graphics 620 (KBL GT2)', 'AMD Radeon RX 6600 (radeonsi, navi23, LLVM 15.0.6, DRM 3.49)', 'ANGLE (Apple, Apple M1, OpenGL 4.1)', undefined]) {
      expect(isSoftwareRenderer(r)).toBe(false);
    }
  });
});

describe('assessHealth', () => {
  it('is ok when everything is', () => {
    expect(assessHealth(base)).toEqual({ status: 'ok', reasons: [] });
  });

  it('gives one reason per problem', () => {
    const v = assessHealth({ ...base, displays: [screen({ id: 'x', stale: true, silentFor: 31.4 }), screen({ id: 'y', software: true, renderer: 'llvmpipe' })], fps: 9 });
    expect(v.status).toBe('degraded');
    expect(v.reasons).toEqual([
      'display x (127.0.0.1) has sent no heartbeat for 31 s',
      'display y (127.0.0.1) draws with a software GPU adapter (llvmpipe); check the GPU driver and Chromium\'s GPU flags',
      'generating 9.0 fps, below 50% of the 30 fps target',
    ]);
  });

  it('judges the frame rate only after warm-up, only while generating, and not when turned off', () => {
    expect(assessHealth({ ...base, fps: 14.9 }).status).toBe('degraded');
    expect(assessHealth({ ...base, fps: 15 }).status).toBe('ok');
    expect(assessHealth({ ...base, fps: 0, generatingForMs: FPS_GRACE_MS - 1 }).status).toBe('ok');
    expect(assessHealth({ ...base, fps: 0, generatingForMs: null }).status).toBe('ok');
    expect(assessHealth({ ...base, fps: 0, degradedFpsRatio: 0 }).status).toBe('ok');
  });
});
