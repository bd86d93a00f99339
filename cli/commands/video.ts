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
import type { EncoderOutput, VideoEncoder } from '../../server/recording/ffmpeg.js';
import type { MorphSpec } from '../../server/render/offline.js';
import type { UpscaleChoice } from '../../server/render/enlarge.js';
import { DEFAULT_STATE } from '../../common/state.js';
import { flagOptions, flagTable, isOneOf, parseFlags } from '../flags.js';
import { DEFAULT_DREAM_MODEL, DEFAULT_MODEL } from '../../server/models/registry.js';
import { UPSCALER_FAMILIES } from '../../server/upscale/converted.js';
import { dreamNetworkNames, dreamStyleNames, generatorNames, MODELS_DIR, MODELS_DIR_FLAG } from '../model-flags.js';
import { UsageError, type Command } from '../command.js';
import { progressBar } from '../progress.js';

const PRESETS = ['ultrafast', 'veryfast', 'faster', 'fast', 'medium', 'slow'] as const;
const PROVIDERS = ['cpu', 'auto', 'webgpu'] as const;
const DREAM_MODES = ['gentle', 'zoom'] as const;
const UPSCALES = [...UPSCALER_FAMILIES, 'off'] as const;
const DEFAULTS = { seconds: 10, fps: 30, size: 512, dreamSize: 128, upscale: 'esrgan-slim', crf: 18, preset: 'medium', provider: 'cpu' } as const;

const usage =
  `portraits video --seeds 1,2,3 --out OUT.mp4 [--seconds ${DEFAULTS.seconds}] [--fps ${DEFAULTS.fps}] [--size ${DEFAULTS.size}] [--loop] ` +
  `[--dream gentle|zoom] [--zoom] [--strength ${DEFAULT_STATE.dream.strength}] [--style NAME] [--octaves ${DEFAULT_STATE.dream.octaves}] [--dream-size ${DEFAULTS.dreamSize}] [--dream-model ID] ` +
  `[--upscale esrgan-slim|esrgan-medium|off] [--crf ${DEFAULTS.crf}] [--preset ${DEFAULTS.preset}] [--model ID] [--models-dir DIR] [--provider cpu|auto|webgpu]`;

const FLAGS = flagTable({
  seeds: { type: 'string', value: 'LIST', required: true, help: 'the seeds the morph passes through, as a list and ranges (1,2,3 or 1-10,42)' },
  out: { type: 'string', value: 'OUT.mp4', required: true, help: 'the MP4 to write; it appears under its name only when complete' },
  seconds: { type: 'string', value: 'S', default: DEFAULTS.seconds, help: 'length, more than 0, at most 3600' },
  fps: { type: 'string', value: 'N', default: DEFAULTS.fps, help: 'frames per second, 1-120' },
  size: { type: 'string', value: 'PX', default: DEFAULTS.size, help: 'side of the square video, even, 16-4096' },
  loop: { type: 'boolean', help: 'morph back to the first seed, so the video plays seamlessly on repeat' },
  dream: { type: 'string', value: 'MODE', default: 'no dream', help: 'dream every frame: gentle (a light pass over each portrait) or zoom (an endless zoom into its own dream)', names: DREAM_MODES },
  zoom: { type: 'boolean', help: 'the same as --dream zoom' },
  strength: { type: 'string', value: 'S', default: DEFAULT_STATE.dream.strength, help: 'how hard each frame is pushed toward what the network sees, more than 0, at most 1 (with --dream)' },
  style: { type: 'string', value: 'NAME', default: "the network's first style", help: "a style, a layer or LAYER:N of the dream network (with --dream); the names are the default network's", names: dreamStyleNames },
  octaves: { type: 'string', value: 'N', default: DEFAULT_STATE.dream.octaves, help: 'scales the dream cycles through, one per frame, 1-6 (with --dream)' },
  'dream-size': { type: 'string', value: 'PX', default: DEFAULTS.dreamSize, help: 'side of the square the dream works at, a multiple of 16, 32-1024 (with --dream)' },
  'dream-model': { type: 'string', value: 'ID', default: `${DEFAULT_DREAM_MODEL}, else the generator's critic`, help: 'the dream network, by its folder in --models-dir (with --dream)', names: dreamNetworkNames },
  upscale: { type: 'string', value: 'NAME', default: DEFAULTS.upscale, help: "the ESRGAN family that enlarges the portraits to --size; 'off' resizes them (bicubic)", names: UPSCALES },
  crf: { type: 'string', value: 'N', default: DEFAULTS.crf, help: 'H.264 quality, 0-51: lower is better, 18 is visually lossless' },
  preset: { type: 'string', value: 'NAME', default: DEFAULTS.preset, help: "x264's speed preset: slower ones make smaller files", names: PRESETS },
  model: { type: 'string', value: 'ID', default: DEFAULT_MODEL, help: 'the generator, by its folder in --models-dir', names: generatorNames },
  'models-dir': MODELS_DIR_FLAG,
  provider: { type: 'string', value: 'NAME', default: DEFAULTS.provider, help: 'onnxruntime execution provider: auto tries WebGPU where a GPU exists, else the CPU', names: PROVIDERS },
});

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

export const video: Command = {
  name: 'video',
  summary: 'render a morph through seeds (optionally looping, dreaming, zooming) to an H.264 MP4 with ffmpeg',
  usage,
  flags: async () => FLAGS,
  async run(argv) {
    const { values } = parseFlags(argv, flagOptions(FLAGS));
    const seeds = parseSeedList(values.seeds);
    if (!values.out) throw new UsageError('--out is required, e.g. --out morph.mp4');
    const out = resolve(values.out);
    if (!['.mp4', '.m4v'].includes(extname(out).toLowerCase())) throw new UsageError(`--out ${values.out}: the video is an MP4; name it .mp4`);
    const seconds = number(values, 'seconds', DEFAULTS.seconds, (n) => n > 0 && n <= 3600, 'seconds, more than 0 and at most 3600');
    const fps = number(values, 'fps', DEFAULTS.fps, (n) => Number.isInteger(n) && n >= 1 && n <= 120, 'an integer 1-120');
    const size = number(values, 'size', DEFAULTS.size, (n) => Number.isInteger(n) && n >= 16 && n <= 4096 && n % 2 === 0, 'an even number of pixels, 16-4096 (H.264 in yuv420p needs even sides)');
    const crf = number(values, 'crf', DEFAULTS.crf, (n) => Number.isInteger(n) && n >= 0 && n <= 51, 'an integer 0-51 (lower is better; 18 is visually lossless)');
    const preset = values.preset ?? DEFAULTS.preset;
    if (!isOneOf(PRESETS, preset)) throw new UsageError(`--preset ${preset}: one of ${PRESETS.join(', ')}`);
    const provider = values.provider ?? DEFAULTS.provider;
    if (!isOneOf(PROVIDERS, provider)) throw new UsageError(`--provider ${provider}: cpu, auto or webgpu`);
    const upscale = (values.upscale ?? DEFAULTS.upscale) as UpscaleChoice;
    if (!isOneOf(UPSCALES, upscale)) throw new UsageError(`--upscale ${upscale}: esrgan-slim, esrgan-medium or off`);

    let dreamMode = values.dream;
    if (values.zoom) {
      if (dreamMode !== undefined && dreamMode !== 'zoom') throw new UsageError('--zoom is the dream zoom (--dream zoom); it cannot go with --dream gentle');
      dreamMode = 'zoom';
    }
    if (dreamMode !== undefined && !isOneOf(DREAM_MODES, dreamMode)) throw new UsageError(`--dream ${dreamMode}: gentle or zoom`);
    const dreamDefaults = DEFAULT_STATE.dream;
    const dream: MorphSpec['dream'] =
      dreamMode === undefined
        ? undefined
        : {
            ...dreamDefaults,
            mode: dreamMode,
            strength: number(values, 'strength', dreamDefaults.strength, (n) => n > 0 && n <= 1, 'more than 0, at most 1'),
            style: values.style ?? '',
            octaves: number(values, 'octaves', dreamDefaults.octaves, (n) => Number.isInteger(n) && n >= 1 && n <= 6, 'an integer 1-6'),
            size: number(values, 'dream-size', DEFAULTS.dreamSize, (n) => Number.isInteger(n) && n >= 32 && n <= 1024 && n % 16 === 0, 'a multiple of 16, 32-1024'),
          };
    if (!dream) for (const k of ['strength', 'style', 'octaves', 'dream-size', 'dream-model'] as const) if (values[k] !== undefined) throw new UsageError(`--${k} needs --dream or --zoom`);

    // Loaded here, not at the top: the renderer, the encoder and sharp are needed only for a run.
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
        modelsDir: resolve(values['models-dir'] ?? MODELS_DIR),
        model: values.model ?? DEFAULT_MODEL,
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
