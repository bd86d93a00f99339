/**
 * `portraits render` end to end at test size: generator -> (dream) -> tiled ESRGAN stack ->
 * exact size -> PNG whose metadata says what it is; and `--compare`, the README picture.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/main.js';
import { AI_STATEMENT, DIGITAL_SOURCE_TYPE } from '../../server/upscale/print-metadata.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'portraits-render-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The JSON in portraits:Settings, unescaped. */
function settingsOf(xmp: string): Record<string, unknown> {
  const m = /portraits:Settings="([^"]*)"/.exec(xmp);
  if (!m) throw new Error('no portraits:Settings in the XMP');
  return JSON.parse(m[1]!.replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&')) as Record<string, unknown>;
}

describe('portraits render', () => {
  const fast = ['--upscaler', 'esrgan-slim', '--tile', '24', '--overlap', '8'];

  it('renders a print of exactly --size with seed, model, settings and the AI statement in its metadata', async () => {
    const out = join(dir, 'print.png');
    expect(await main(['render', '--seed', '42', '--size', '200', '--out', out, ...fast])).toBe(0);
    const meta = await sharp(out).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 200, 200]);
    expect(Math.round(meta.density ?? 0)).toBe(300);
    const xmp = meta.xmp!.toString('utf8');
    expect(xmp).toContain(AI_STATEMENT);
    expect(xmp).toContain('portraits:Seed="42"');
    expect(xmp).toContain('portraits:Model="default-face"');
    expect(xmp).toContain(DIGITAL_SOURCE_TYPE);
    const settings = settingsOf(xmp);
    // The default generator's face stage already reaches 256 px (64 -> 128 -> 256): no ESRGAN pass is needed for 200.
    expect(settings).toMatchObject({ size: 200, dream: null, face: 'face-sr', upscaler: { family: 'esrgan-slim', passes: 'off', tile: 24, overlap: 8 }, resize: '256 -> 200 lanczos3' });
    expect(meta.exif!.toString('latin1')).toContain(AI_STATEMENT);
    // Without the face stage the ESRGAN passes take the 64 px face up themselves.
    const bare = join(dir, 'bare.png');
    expect(await main(['render', '--seed', '42', '--size', '200', '--out', bare, '--face', 'off', ...fast])).toBe(0);
    expect(settingsOf((await sharp(bare).metadata()).xmp!.toString('utf8'))).toMatchObject({ face: null, upscaler: { passes: 'x4' } });
  }, 180_000);

  it('dreams before upscaling when asked, and says so in the metadata', async () => {
    const plain = join(dir, 'plain.png');
    const dreamed = join(dir, 'dreamed.png');
    expect(await main(['render', '--seed', '7', '--size', '128', '--out', plain, ...fast])).toBe(0);
    expect(await main(['render', '--seed', '7', '--size', '128', '--out', dreamed, '--dream-iterations', '3', '--dream-octaves', '1', '--dream-size', '64', '--dream-step', '4', ...fast])).toBe(0);
    const settings = settingsOf((await sharp(dreamed).metadata()).xmp!.toString('utf8'));
    expect(settings.dream).toMatchObject({ model: 'darknet-tiny', layer: 'creatures', size: 64, iterations: 3, octaves: 1, keepColours: true });
    const [a, b] = await Promise.all([sharp(plain).raw().toBuffer(), sharp(dreamed).raw().toBuffer()]);
    let d = 0;
    for (let i = 0; i < a.length; i++) d += Math.abs(a[i]! - b[i]!);
    expect(d / a.length).toBeGreaterThan(0.5);
  }, 180_000);

  it('writes the side-by-side comparison with --compare', async () => {
    const out = join(dir, 'compare.png');
    expect(await main(['render', '--seed', '42', '--compare', '--size', '96', '--out', out, '--upscaler', 'esrgan-slim'])).toBe(0);
    const meta = await sharp(out).metadata();
    expect([meta.width, meta.height]).toEqual([3 * 96 + 2 * 4, 96 + 28]);
  }, 120_000);

  it('explains bad options', async () => {
    expect(await main(['render', '--seed', '1'])).toBe(2);
    expect(await main(['render', '--out', join(dir, 'x.png'), '--upscaler', 'waifu2x'])).toBe(2);
    expect(await main(['render', '--out', join(dir, 'x.png'), '--tile', '32', '--overlap', '20'])).toBe(2);
  });
});
