/**
 * `portraits video`: a morph through chosen seeds (optionally looping, dreaming or
 * zooming into its own dream) rendered deterministically and encoded to H.264 MP4 by
 * Debian's ffmpeg. ffmpeg and the free disk space are checked before the first frame;
 * the file appears under its name only when complete (a failed or interrupted render
 * leaves nothing behind).
 */
import { parseSeedList } from '../seeds.js';
import { mkdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { ROOT_DIR } from '../../server/config.js';
import type { EncoderOutput, VideoEncoder } from '../../server/recording/ffmpeg.js';
import type { MorphSpec } from '../../server/render/offline.js';
import type { UpscaleChoice } from '../../server/render/enlarge.js';
import { DEFAULT_STATE } from '../../common/state.js';
import { parseFlags } from '../flags.js';
import { UsageError, type Command } from '../command.js';
import { progressBar } from '../progress.js';

const usage =
  'portraits video --seeds 1,2,3 --out OUT.mp4 [--seconds 10] [--fps 30] [--size 512] [--loop] ' +
  '[--dream gentle|zoom] [--zoom] [--strength 0.5] [--style NAME] [--octaves 2] [--dream-size 128] [--dream-model ID] ' +
  '[--upscale esrgan-slim|esrgan-medium|off] [--crf 18] [--preset medium] [--model ID] [--models-dir DIR] [--provider cpu|auto|webgpu]';

/**
 * A generous size estimate for H.264 at crf 18 (bits per pixel per frame): detailed
 * dream textures cost far more than smooth faces. Doubled for +faststart, which
 * rewrites the file once at the end.
 */
const BITS_PER_PIXEL = 0.75;
const SAFETY_BYTES = 16 * 1024 * 1024;

export function estimateVideoBytes(frames: number, size: number): number {
  return Math.ceil(((frames * size * size * BITS_PER_PIXEL) / 8) * 2 + SAFETY_BYTES);
}

function number(values: Record<string, unknown>, key: string, fallback: number, check: (n: number) => boolean, rule: string): number {
  const raw = values[key];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (raw === '' || !Number.isFinite(n) || !check(n)) throw new UsageError(`--${key} ${String(raw)}: ${rule}`);
  return n;
}

const PRESETS = ['ultrafast', 'veryfast', 'faster', 'fast', 'medium', 'slow'] as const;

export const video: Command = {
  name: 'video',
  summary: 'render a morph through seeds (optionally looping, dreaming, zooming) to an H.264 MP4 with ffmpeg',
  usage,
  async run(argv) {
    const { values } = parseFlags(argv, {
        seeds: { type: 'string' }, seconds: { type: 'string' }, fps: { type: 'string' }, size: { type: 'string' }, out: { type: 'string' },
        loop: { type: 'boolean' }, dream: { type: 'string' }, zoom: { type: 'boolean' }, strength: { type: 'string' }, style: { type: 'string' },
        octaves: { type: 'string' }, 'dream-size': { type: 'string' }, 'dream-model': { type: 'string' }, upscale: { type: 'string' },
        crf: { type: 'string' }, preset: { type: 'string' }, model: { type: 'string' }, 'models-dir': { type: 'string' }, provider: { type: 'string' },
      });
    const seeds = parseSeedList(values.seeds);
    if (!values.out) throw new UsageError('--out is required, e.g. --out morph.mp4');
    const out = resolve(values.out);
    if (!['.mp4', '.m4v'].includes(extname(out).toLowerCase())) throw new UsageError(`--out ${values.out}: the video is an MP4; name it .mp4`);
    const seconds = number(values, 'seconds', 10, (n) => n > 0 && n <= 3600, 'seconds, more than 0 and at most 3600');
    const fps = number(values, 'fps', 30, (n) => Number.isInteger(n) && n >= 1 && n <= 120, 'an integer 1-120');
    const size = number(values, 'size', 512, (n) => Number.isInteger(n) && n >= 16 && n <= 4096 && n % 2 === 0, 'an even number of pixels, 16-4096 (H.264 in yuv420p needs even sides)');
    const crf = number(values, 'crf', 18, (n) => Number.isInteger(n) && n >= 0 && n <= 51, 'an integer 0-51 (lower is better; 18 is visually lossless)');
    const preset = values.preset ?? 'medium';
    if (!(PRESETS as readonly string[]).includes(preset)) throw new UsageError(`--preset ${preset}: one of ${PRESETS.join(', ')}`);
    const provider = values.provider ?? 'cpu';
    if (!['cpu', 'auto', 'webgpu'].includes(provider)) throw new UsageError(`--provider ${provider}: cpu, auto or webgpu`);
    const upscale = (values.upscale ?? 'esrgan-slim') as UpscaleChoice;
    if (!['off', 'esrgan-slim', 'esrgan-medium'].includes(upscale)) throw new UsageError(`--upscale ${upscale}: esrgan-slim, esrgan-medium or off`);

    let dreamMode = values.dream;
    if (values.zoom) {
      if (dreamMode !== undefined && dreamMode !== 'zoom') throw new UsageError('--zoom is the dream zoom (--dream zoom); it cannot go with --dream gentle');
      dreamMode = 'zoom';
    }
    if (dreamMode !== undefined && dreamMode !== 'gentle' && dreamMode !== 'zoom') throw new UsageError(`--dream ${dreamMode}: gentle or zoom`);
    const dreamDefaults = DEFAULT_STATE.dream;
    const dream: MorphSpec['dream'] =
      dreamMode === undefined
        ? undefined
        : {
            mode: dreamMode,
            strength: number(values, 'strength', dreamDefaults.strength, (n) => n > 0 && n <= 1, 'more than 0, at most 1'),
            style: values.style ?? '',
            octaves: number(values, 'octaves', dreamDefaults.octaves, (n) => Number.isInteger(n) && n >= 1 && n <= 6, 'an integer 1-6'),
            size: number(values, 'dream-size', 128, (n) => Number.isInteger(n) && n >= 32 && n <= 1024 && n % 16 === 0, 'a multiple of 16, 32-1024'),
          };
    if (!dream) for (const k of ['strength', 'style', 'octaves', 'dream-size', 'dream-model'] as const) if (values[k] !== undefined) throw new UsageError(`--${k} needs --dream or --zoom`);

    // Loaded here, not at the top, so `portraits help` does not load onnxruntime and sharp.
    const { ensureFreeSpace, formatBytes } = await import('../../server/recording/disk-space.js');
    const { checkFfmpeg, VideoEncoder } = await import('../../server/recording/ffmpeg.js');
    const { frameCount, OfflineRenderer } = await import('../../server/render/offline.js');
    const spec: MorphSpec = { seeds, seconds, fps, size, loop: values.loop ?? false, upscale, ...(dream ? { dream } : {}) };
    const frames = frameCount(spec);

    // Everything that can fail without rendering fails first.
    await checkFfmpeg();
    await mkdir(dirname(out), { recursive: true });
    const needed = estimateVideoBytes(frames, size);
    const free = await ensureFreeSpace(dirname(out), needed, `${frames} frames at ${size}x${size}`);

    const renderer = await OfflineRenderer.open(
      {
        modelsDir: resolve(values['models-dir'] ?? join(ROOT_DIR, 'models')),
        model: values.model ?? 'default-face',
        dreamModel: values['dream-model'] ?? '',
        provider: provider as 'cpu' | 'auto' | 'webgpu',
      },
      spec,
      (note) => process.stderr.write(`${note}\n`),
    );
    const partial = join(dirname(out), `.${basename(out)}.partial`);
    const output: EncoderOutput = { file: partial, crf, preset: preset as EncoderOutput['preset'], layout: 'faststart' };
    let encoder: VideoEncoder | null = null;
    let bar: ReturnType<typeof progressBar> | null = null;
    let interrupted = false;
    const onSignal = () => {
      interrupted = true;
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      process.stderr.write(
        `video: ${frames} frames (${seconds} s at ${fps} fps), ${size}x${size}, model ${renderer.generatorId}, seeds ${seeds.join(',')}${spec.loop ? ' (loop)' : ''}` +
          `${dream ? `, dream ${dream.mode} ${dream.strength}` : ''}; enlarge: ${renderer.enlargeDescription}; ${formatBytes(free)} free\n`,
      );
      encoder = VideoEncoder.start({ kind: 'rgb24', width: size, height: size, fps }, output);
      bar = progressBar('video', frames, 'frames');
      for await (const frame of renderer.render()) {
        if (interrupted) throw new Error('interrupted; no video written');
        await encoder.write(frame.rgb);
        bar.update(frame.index + 1);
      }
      bar.stop();
      bar = null;
      await encoder.finish();
      await rename(partial, out);
      process.stderr.write(`wrote ${out}\n`);
      return 0;
    } catch (err) {
      bar?.stop();
      await encoder?.abort();
      await rm(partial, { force: true });
      throw err;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await renderer.dispose();
    }
  },
};
