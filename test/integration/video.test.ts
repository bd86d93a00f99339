/**
 * `portraits video`: the morph's latents (pure), then real renders through Debian's
 * ffmpeg checked with ffprobe (size, frame count, duration), the same arguments giving
 * the same frames, and the clear errors (no ffmpeg, not enough disk, a full disk).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { distance, seedToLatent } from '../../common/latent.js';
import { main } from '../../cli/main.js';
import { estimateVideoBytes } from '../../cli/commands/video.js';
import { freeBytes } from '../../server/recording/disk-space.js';
import { DiskFullError, VideoEncoder } from '../../server/recording/ffmpeg.js';
import { frameCount, morphLatent } from '../../server/render/offline.js';
import { tinyModelsDir } from '../support/tiny-generator.js';
import { decodeFrames, haveFfmpeg, meanAbsDiff, probe } from './video-support.js';

const DIM = 128;

describe('morph latents', () => {
  const spec = { seeds: [1, 2, 3], seconds: 3, fps: 10, loop: false };

  it('runs from the first seed to the last, passing through each keyframe exactly', () => {
    const n = frameCount(spec);
    expect(n).toBe(30);
    expect(distance(morphLatent(spec, 0, DIM), seedToLatent(1, DIM))).toBeLessThan(1e-4);
    expect(distance(morphLatent(spec, n - 1, DIM), seedToLatent(3, DIM))).toBeLessThan(1e-4);
    // 30 frames over two transitions: frame 14.5 would be seed 2; the neighbours are nearly there.
    expect(distance(morphLatent({ ...spec, fps: 31 / 3 }, 15, DIM), seedToLatent(2, DIM))).toBeLessThan(1e-4);
  });

  it('loops back to the first seed: the frame after the last is the first again', () => {
    const loop = { ...spec, loop: true };
    const n = frameCount(loop);
    expect(distance(morphLatent(loop, n, DIM), morphLatent(loop, 0, DIM))).toBeLessThan(1e-4);
    expect(distance(morphLatent(loop, n / 3, DIM), seedToLatent(2, DIM))).toBeLessThan(1e-4);
    expect(distance(morphLatent(loop, n - 1, DIM), seedToLatent(1, DIM))).toBeGreaterThan(0.1);
  });

  it('moves without jumps and depends only on the frame index', () => {
    const n = frameCount(spec);
    const gap = distance(seedToLatent(1, DIM), seedToLatent(2, DIM));
    for (let i = 1; i < n; i++) expect(distance(morphLatent(spec, i, DIM), morphLatent(spec, i - 1, DIM))).toBeLessThan(gap / 5);
    expect(Array.from(morphLatent(spec, 7, DIM))).toEqual(Array.from(morphLatent(spec, 7, DIM)));
  });
});

/** Runs the CLI in this process, capturing what it prints on stderr. */
async function portraits(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stderr: string }> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  let stderr = '';
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  try {
    return { code: await main(args), stderr };
  } finally {
    spy.mockRestore();
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

let dir: string;
let tiny: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'portraits-video-'));
  tiny = await tinyModelsDir('tiny-face');
});

afterEach(async () => {
  // A render leaves its finished file or nothing: never a partial one.
  expect((await readdir(dir)).filter((f) => f.endsWith('.partial'))).toEqual([]);
});

const ffmpeg = haveFfmpeg();

describe.skipIf(!ffmpeg)('portraits video (ffmpeg)', () => {
  it('writes an H.264 MP4 of the asked size, frame count and duration with the default model', async () => {
    const out = join(dir, 'morph.mp4');
    const { code, stderr } = await portraits(['video', '--seeds', '1,2,3', '--seconds', '2', '--fps', '12', '--size', '96', '--upscale', 'off', '--out', out]);
    expect(code, stderr).toBe(0);
    expect(stderr).toMatch(/24 frames/);
    expect(stderr).toMatch(/ETA/);
    const p = await probe(out);
    expect(p).toMatchObject({ codec: 'h264', pixFmt: 'yuv420p', width: 96, height: 96, frames: 24, frameRate: '12/1' });
    expect(p.duration).toBeCloseTo(2, 1);
  });

  it('gives the same frames for the same arguments, and other frames for other seeds', async () => {
    const args = (seeds: string, out: string) => ['video', '--seeds', seeds, '--seconds', '1', '--fps', '8', '--size', '64', '--upscale', 'off', '--model', 'tiny-face', '--models-dir', tiny, '--out', join(dir, out)];
    for (const [seeds, out] of [['5,6', 'a.mp4'], ['5,6', 'b.mp4'], ['7,8', 'c.mp4']] as const) {
      const r = await portraits(args(seeds, out));
      expect(r.code, r.stderr).toBe(0);
    }
    const [a, b, c] = await Promise.all(['a.mp4', 'b.mp4', 'c.mp4'].map((f) => decodeFrames(join(dir, f), 64, 64)));
    expect(a!.length).toBe(8);
    expect(b!.length).toBe(8);
    for (let i = 0; i < 8; i++) expect(Buffer.compare(a![i]!, b![i]!), `frame ${i}`).toBe(0);
    expect(meanAbsDiff(a![0]!, c![0]!)).toBeGreaterThan(10);
    // A morph: the first and last frames are different faces.
    expect(meanAbsDiff(a![0]!, a![7]!)).toBeGreaterThan(10);
  });

  it('dreams and zooms deterministically (seeded jitter, frame-indexed feedback)', async () => {
    const args = (out: string, extra: string[]) => ['video', '--seeds', '3', '--seconds', '0.5', '--fps', '8', '--size', '64', '--upscale', 'off', ...extra, '--out', join(dir, out)];
    for (const [out, extra] of [
      ['z1.mp4', ['--zoom', '--strength', '1']],
      ['z2.mp4', ['--zoom', '--strength', '1']],
      ['still.mp4', []],
    ] as const) {
      const r = await portraits(args(out, [...extra]));
      expect(r.code, r.stderr).toBe(0);
    }
    const [z1, z2, still] = await Promise.all(['z1.mp4', 'z2.mp4', 'still.mp4'].map((f) => decodeFrames(join(dir, f), 64, 64)));
    expect(z1!.length).toBe(4);
    for (let i = 0; i < 4; i++) expect(Buffer.compare(z1![i]!, z2![i]!), `frame ${i}`).toBe(0);
    // The dream changes the picture, more with every fed-back frame.
    expect(meanAbsDiff(z1![3]!, still![3]!)).toBeGreaterThan(meanAbsDiff(z1![0]!, still![0]!));
    expect(meanAbsDiff(z1![3]!, still![3]!)).toBeGreaterThan(1);
  });

  it('enlarges with the ESRGAN print stack when asked for more than the generator makes', async () => {
    const args = (out: string, upscale: string) => ['video', '--seeds', '8', '--seconds', '0.25', '--fps', '4', '--size', '128', '--upscale', upscale, '--out', join(dir, out)];
    const esrgan = await portraits(args('esrgan.mp4', 'esrgan-slim'));
    expect(esrgan.code, esrgan.stderr).toBe(0);
    expect(esrgan.stderr).toMatch(/enlarge: esrgan-slim x2 64 -> 128 px/);
    const lanczos = await portraits(args('lanczos.mp4', 'off'));
    expect(lanczos.code, lanczos.stderr).toBe(0);
    const [a, b] = await Promise.all(['esrgan.mp4', 'lanczos.mp4'].map((f) => decodeFrames(join(dir, f), 128, 128)));
    expect(a).toHaveLength(1);
    // Same face, different enlargement.
    const d = meanAbsDiff(a![0]!, b![0]!);
    expect(d).toBeGreaterThan(0.3);
    expect(d).toBeLessThan(20);
  });

  it('reports a full disk from ffmpeg as such (ENOSPC on /dev/full)', async () => {
    if (!existsSync('/dev/full')) return void console.warn('skipped: /dev/full does not exist on this system');
    const encoder = VideoEncoder.start({ kind: 'rgb24', width: 32, height: 32, fps: 10 }, { file: '/dev/full', crf: 18, preset: 'ultrafast', layout: 'faststart' });
    const frame = Buffer.alloc(32 * 32 * 3, 128);
    const error = await (async () => {
      for (let i = 0; i < 50; i++) await encoder.write(frame);
      await encoder.finish();
    })().then(() => null, (err: Error) => err);
    expect(error).toBeInstanceOf(DiskFullError);
    expect(error!.message).toMatch(/disk is full/);
  });
});

describe('portraits video errors', () => {
  it('says how to install ffmpeg when it is missing, before rendering anything', async () => {
    const out = join(dir, 'none.mp4');
    const { code, stderr } = await portraits(['video', '--seeds', '1,2', '--seconds', '1', '--size', '64', '--out', out], { PORTRAITS_FFMPEG: join(dir, 'no-such-ffmpeg') });
    expect(code).toBe(1);
    expect(stderr).toContain('install ffmpeg: sudo apt-get install -y ffmpeg');
    expect(stderr).not.toMatch(/frames \|/); // no progress bar: nothing was rendered
    expect(existsSync(out)).toBe(false);
  });

  it.skipIf(!ffmpeg)('refuses up front when the disk cannot hold the video', async () => {
    const args = ['--seconds', '3600', '--fps', '120', '--size', '4096'];
    const needed = estimateVideoBytes(3600 * 120, 4096);
    if ((await freeBytes(dir)) >= needed) return void console.warn(`skipped: ${dir} has more than ${needed} bytes free`);
    const out = join(dir, 'huge.mp4');
    const { code, stderr } = await portraits(['video', '--seeds', '1', ...args, '--out', out]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/not enough disk space for 432000 frames at 4096x4096: .* free in .*, need about/);
    expect(stderr).not.toMatch(/frames \|/);
    expect(existsSync(out)).toBe(false);
  });

  it('refuses arguments it cannot honour with the usage', async () => {
    const odd = await portraits(['video', '--seeds', '1', '--size', '99', '--out', join(dir, 'x.mp4')]);
    expect(odd.code).toBe(2);
    expect(odd.stderr).toMatch(/--size 99: an even number/);
    const seeds = await portraits(['video', '--seeds', '1,x', '--out', join(dir, 'x.mp4')]);
    expect(seeds.code).toBe(2);
    expect(seeds.stderr).toMatch(/'x' is not a seed/);
    const both = await portraits(['video', '--seeds', '1', '--zoom', '--dream', 'gentle', '--out', join(dir, 'x.mp4')]);
    expect(both.code).toBe(2);
  });
});
