/**
 * Audio through the whole path on the real server (issue 20's done-when): a 120 bpm kick WAV
 * played as the audio input (ffmpeg, real time) makes a parameter routed from onsets pulse at
 * 2 Hz, measured from the state broadcasts a controller receives (within 5 %); silence leaves
 * the parameter at rest.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { PageState } from '../../common/state.js';
import type { RunningServer } from '../../server/app.js';
import { hasFfmpeg, writeWav } from '../support/audio-fixtures.js';
import { connect, startTestServer } from '../support/server.js';
import { tinyModelsDir } from '../support/tiny-generator.js';

const ffmpeg = hasFfmpeg();
if (!ffmpeg && process.env.CI === 'true') throw new Error('CI=true but ffmpeg is missing (apt-get install -y ffmpeg)');
const dir = mkdtempSync(join(tmpdir(), 'portraits-audio-path-'));
let server: RunningServer | null = null;

afterEach(async () => {
  await server?.close();
  server = null;
});

/** The routed parameter's value in every state broadcast for `seconds`, with arrival times (s). */
async function watch(file: string, seconds: number): Promise<{ t: number; v: number }[]> {
  server = await startTestServer({ modelsDir: await tinyModelsDir(), audio: file, fps: 10, frameSize: 32 });
  const ack = server.store.apply({ dream: { strength: 0 }, modulation: { routes: [{ source: 'audio.onset', target: 'dream.strength', amount: 1, attack: 0, release: 0.25, curve: 'linear' }] } }, 'http');
  expect(ack.ok).toBe(true);
  const controller = await connect(server, 'controller');
  const seen: { t: number; v: number }[] = [];
  const start = performance.now();
  controller.on('state', (state: PageState) => seen.push({ t: (performance.now() - start) / 1000, v: state.dream.strength }));
  await new Promise((r) => setTimeout(r, seconds * 1000));
  controller.disconnect();
  return seen;
}

describe.skipIf(!ffmpeg)('audio input -> analysis -> modulation -> state broadcasts', () => {
  it('a 120 bpm kick pulses a parameter routed from onsets at 2 Hz', async () => {
    const seen = await watch(writeWav(dir, 'kick120'), 7);
    // Rising crossings of 0.5, after the first second (ffmpeg's start).
    const rises = seen.filter((s, i) => i > 0 && s.t > 1 && seen[i - 1]!.v < 0.5 && s.v >= 0.5).map((s) => s.t);
    // The period from the first to the last rise, counting beats by the median gap (state
    // broadcasts come at most every 100 ms, so one pulse in a while may fall between two).
    const gaps = rises.slice(1).map((t, i) => t - rises[i]!);
    const median = [...gaps].sort((a, b) => a - b)[Math.floor(gaps.length / 2)]!;
    const beats = gaps.reduce((n, g) => n + Math.max(1, Math.round(g / median)), 0);
    const rate = beats / (rises.at(-1)! - rises[0]!);
    console.log(`kick through the server: ${rises.length} pulses, ${rate.toFixed(3)} Hz, ${seen.length} state broadcasts`);
    expect(rises.length).toBeGreaterThanOrEqual(9);
    expect(Math.abs(rate - 2) / 2).toBeLessThan(0.05);
  }, 30_000);

  it('silence leaves the parameter at rest', async () => {
    const seen = await watch(writeWav(dir, 'silence'), 3);
    expect(Math.max(0, ...seen.map((s) => s.v))).toBe(0);
  }, 30_000);
});
