/** `portraits dream`: DeepDream a picture (or noise) offline, optionally as an endless zoom. */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ROOT_DIR } from '../../server/config.js';
import { pictureBasis } from '../../server/dream/colour.js';
import { DEFAULT_DREAM, dreamImage, noiseImage, type DreamSettings } from '../../server/dream/engine.js';
import { ImageOps } from '../../server/dream/image-ops.js';
import { DreamNet, type DreamNetSpec } from '../../server/dream/net.js';
import { ZOOM_OFFLINE, zoomFeed } from '../../server/dream/zoom.js';
import { planarToSharp, readPlanar } from '../../server/image/planar.js';
import type { PlanarImage } from '../../server/image/planar-image.js';
import { numberFlag, parseFlags } from '../flags.js';
import { UsageError, type Command } from '../command.js';
import { cliStyle, openCliDream, styleSettings, type CliDream } from '../dream-style.js';
import { progressBar } from '../progress.js';

const usage =
  'portraits dream (--in IMAGE | --from-noise) --out OUT.png [--style NAME] [--model ID] [--layer NAME --channel N] [--class NAME] ' +
  '[--size PX] [--octaves N] [--octave-scale S] [--iterations N] [--step S] [--jitter 32] [--seed 0] [--pyramid 4] [--free-colours] ' +
  '[--zoom-frames N] [--zoom 1.05] [--rotate DEG] [--models-dir DIR]';

async function classIndex(dream: CliDream, name: string): Promise<{ tensor: string; index: number }> {
  const spec = dream.manifest.dream;
  if (!spec?.logits || !spec.labels) throw new UsageError(`model '${dream.id}' is not a classifier with labels; --class needs one (e.g. --model darknet-tiny)`);
  const labels = (await readFile(join(dream.dir, spec.labels), 'utf8')).split('\n').map((l) => l.trim().toLowerCase());
  const wanted = name.trim().toLowerCase();
  const index = labels.findIndex((l) => l === wanted);
  if (index < 0) {
    const near = labels.filter((l) => l.includes(wanted)).slice(0, 8);
    throw new UsageError(`class '${name}' is not in ${spec.labels}${near.length ? `; did you mean: ${near.join(', ')}` : ''}`);
  }
  return { tensor: spec.logits, index };
}

const optional = (values: Record<string, unknown>, key: string, check: (n: number) => boolean): number | undefined =>
  values[key] === undefined ? undefined : numberFlag(values, key, 0, check);

export const dream: Command = {
  name: 'dream',
  summary: 'DeepDream a picture or noise in a style (a layer blend of the dream network), a layer, a channel or a class; optional endless zoom frames',
  usage,
  async details() {
    const lines = [
      '',
      'With no options it dreams in the default style of the shipped dream network (Darknet tiny) with that',
      "style's tuned settings, and keeps the picture's colours. --style takes a style, a layer or LAYER:N",
      '(--layer is the same flag); the flags override the style\'s settings. --free-colours steps in plain RGB',
      "without holding the picture's colour statistics (the old look, with its colour casts).",
      '',
    ];
    try {
      const dream = await openCliDream(join(ROOT_DIR, 'models'), undefined);
      return [...lines, ...dream.catalogue.describe()].join('\n');
    } catch (err) {
      return [...lines, `(no dream network to list: ${(err as Error).message})`].join('\n');
    }
  },
  async run(argv) {
    const { values } = parseFlags(argv, {
      in: { type: 'string' }, out: { type: 'string' }, 'from-noise': { type: 'boolean' }, model: { type: 'string' },
      style: { type: 'string' }, layer: { type: 'string' }, channel: { type: 'string' }, class: { type: 'string' }, size: { type: 'string' },
      octaves: { type: 'string' }, 'octave-scale': { type: 'string' }, iterations: { type: 'string' }, step: { type: 'string' },
      jitter: { type: 'string' }, seed: { type: 'string' }, pyramid: { type: 'string' }, 'free-colours': { type: 'boolean' },
      'zoom-frames': { type: 'string' }, zoom: { type: 'string' }, rotate: { type: 'string' }, 'models-dir': { type: 'string' },
    });
    if (!values.out) throw new UsageError('--out is required');
    if (!values.in && !values['from-noise']) throw new UsageError('give --in IMAGE or --from-noise');
    if (values.style !== undefined && values.layer !== undefined) throw new UsageError('--style and --layer are the same flag; give one');
    if (values.class !== undefined && (values.style ?? values.layer ?? values.channel) !== undefined) throw new UsageError('--class dreams toward a class; it cannot go with --style, --layer or --channel');
    const flags: Partial<DreamSettings> = {
      octaves: optional(values, 'octaves', (n) => Number.isInteger(n) && n >= 1 && n <= 12),
      octaveScale: optional(values, 'octave-scale', (n) => n > 1 && n <= 4),
      iterations: optional(values, 'iterations', (n) => Number.isInteger(n) && n >= 1 && n <= 1000),
      step: optional(values, 'step', (n) => n > 0 && n <= 100),
      jitter: optional(values, 'jitter', (n) => Number.isInteger(n) && n >= 0 && n <= 512),
      seed: optional(values, 'seed', (n) => Number.isInteger(n) && n >= 0),
      pyramid: optional(values, 'pyramid', (n) => Number.isInteger(n) && n >= 1 && n <= 8),
      // Noise has no colours of its own to keep.
      keepColours: values['free-colours'] || values['from-noise'] ? false : undefined,
    };
    const size = values.size === undefined ? undefined : numberFlag(values, 'size', 0, (n) => Number.isInteger(n) && n >= 16 && n <= 4096);
    const zoomFrames = numberFlag(values, 'zoom-frames', 0, (n) => Number.isInteger(n) && n >= 0 && n <= 10000);
    const zoom = numberFlag(values, 'zoom', 1.05, (n) => n >= 1 && n <= 2);
    const rotate = numberFlag(values, 'rotate', 0, (n) => Math.abs(n) <= 45);
    const channel = optional(values, 'channel', (n) => Number.isInteger(n) && n >= 0);

    const modelsDir = resolve(values['models-dir'] ?? join(ROOT_DIR, 'models'));
    const dream = await openCliDream(modelsDir, values.model);
    let spec: DreamNetSpec;
    let settings: DreamSettings;
    let what: string;
    if (values.class !== undefined) {
      const { tensor, index } = await classIndex(dream, values.class);
      const file = join(dream.dir, dream.manifest.dream!.file);
      spec = { file, input: dream.manifest.dream!.input, range: dream.manifest.dream!.range, objective: { kind: 'class', tensor, index } };
      settings = { ...DEFAULT_DREAM, ...Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined)) };
      what = `class ${values.class}`;
    } else {
      const style = cliStyle(dream, values.style ?? values.layer, channel);
      spec = style.spec;
      settings = styleSettings(style, flags);
      what = `${style.kind} ${style.name}`;
    }

    let base: PlanarImage;
    if (values.in) base = await readPlanar(resolve(values.in), size ? { width: size, height: size } : undefined);
    else base = noiseImage(size ?? 224, size ?? 224, settings.seed);
    // A zoom is held to the portrait's colours, frame after frame.
    const portrait = settings.keepColours ? pictureBasis(base) : null;

    const net = await DreamNet.open(spec, 'cpu');
    const ops = await ImageOps.create();
    try {
      const out = resolve(values.out);
      const frames = 1 + zoomFrames;
      const perFrame = settings.octaves * settings.iterations;
      const bar = progressBar('dream', frames * perFrame);
      process.stderr.write(`dreaming ${what} of ${dream.id}: ${settings.octaves} octaves x ${settings.iterations} steps of ${settings.step}${settings.keepColours ? ", the picture's colours kept" : ''}\n`);
      let done = 0;
      let image = base;
      for (let f = 0; f < frames; f++) {
        if (f > 0) image = await zoomFeed(ops, image, base, { scale: zoom, radians: (rotate * Math.PI) / 180, anchor: portrait ? ZOOM_OFFLINE.anchor : 0 });
        const start = done;
        image = await dreamImage(net, ops, image, { ...settings, seed: settings.seed + f }, (p) => {
          done = start + p.done;
          bar.update(done, `frame ${f + 1}/${frames} objective ${p.objective.toFixed(3)}`);
        }, portrait ? { colours: portrait, contrast: zoomFrames > 0 ? ZOOM_OFFLINE.contrast : undefined } : {});
        done = start + perFrame;
        const path = zoomFrames > 0 ? out.replace(/(\.png)?$/i, `-${String(f).padStart(4, '0')}.png`) : out;
        await planarToSharp(image).png().toFile(path);
      }
      bar.stop();
      process.stderr.write(`wrote ${zoomFrames > 0 ? `${frames} frames next to ${out}` : out}\n`);
      return 0;
    } finally {
      await Promise.allSettled([net.dispose(), ops.dispose()]);
    }
  },
};
