/** `portraits dream`: DeepDream a picture (or noise) offline, optionally as an endless zoom. */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pictureBasis } from '../../server/dream/colour.js';
import { DEFAULT_DREAM, dreamImage, noiseImage, type DreamSettings } from '../../server/dream/engine.js';
import { ImageOps } from '../../server/dream/image-ops.js';
import { DreamNet, type DreamNetSpec } from '../../server/dream/net.js';
import { ZOOM_OFFLINE, zoomFeed } from '../../server/dream/zoom.js';
import { planarToSharp, readPlanar } from '../../server/image/planar.js';
import type { PlanarImage } from '../../server/image/planar-image.js';
import { flagOptions, flagTable, numberFlag, parseFlags, wrapList } from '../flags.js';
import { UsageError, type Command } from '../command.js';
import { cliStyle, openCliDream, styleDefault, styleSettings, type CliDream } from '../dream-style.js';
import { progressBar } from '../progress.js';
import { drawClassFromNoise } from '../draw-class.js';
import { DEFAULT_DREAM_MODEL } from '../../server/models/registry.js';
import { dreamNetworkNames, MODELS_DIR, MODELS_DIR_FLAG } from '../model-flags.js';

/** Without a size, noise is dreamed at the dream network's usual input size. */
const NOISE_SIZE = 224;
const ZOOM = { frames: 0, scale: 1.05, rotate: 0 } as const;

const usage =
  'portraits dream (--in IMAGE | --from-noise) --out OUT.png [--style NAME] [--model ID] [--layer NAME --channel N] [--class NAME] ' +
  `[--size PX] [--octaves N] [--octave-scale S] [--iterations N] [--step S] [--jitter ${DEFAULT_DREAM.jitter}] [--seed ${DEFAULT_DREAM.seed}] [--pyramid ${DEFAULT_DREAM.pyramid}] [--free-colours] ` +
  `[--zoom-frames N] [--zoom ${ZOOM.scale}] [--rotate DEG] [--models-dir DIR]`;

const FLAGS = flagTable({
  in: { type: 'string', value: 'IMAGE', help: 'the picture to dream on (give this or --from-noise)' },
  'from-noise': { type: 'boolean', help: 'dream on random noise instead of a picture (its colours are not kept)' },
  out: { type: 'string', value: 'OUT.png', required: true, help: 'the PNG to write; with --zoom-frames, OUT-0000.png, OUT-0001.png... instead' },
  style: { type: 'string', value: 'NAME', default: "the network's first style", help: 'a style, a layer or LAYER:N of the dream network, listed below' },
  layer: { type: 'string', value: 'NAME', help: 'the same flag as --style (give one of them)' },
  channel: { type: 'string', value: 'N', default: 'every channel', help: "dream one channel of the --style/--layer layer, or of the network's first layer" },
  class: { type: 'string', value: 'NAME', help: "dream toward a class of a classifier with labels, listed below; not with --style, --layer or --channel. With --from-noise the class is drawn in lucid's manner: --iterations sets its Adam steps (default 512), the octave and step flags do not apply" },
  guide: {
    type: 'string',
    value: 'IMAGE',
    help: "dream toward this picture's features (guided dreaming, after the DeepDream notebook): each part of the picture grows toward the part of the guide it most resembles; --style/--layer names the layer they are matched at (a style or none: the network's guide layer); not with --class",
  },
  model: { type: 'string', value: 'ID', default: `${DEFAULT_DREAM_MODEL}, else the default generator's critic`, help: 'the dream network, by its folder in --models-dir', names: dreamNetworkNames },
  size: { type: 'string', value: 'PX', default: `the picture's own size; ${NOISE_SIZE} from noise`, help: 'resize the picture (or the noise) to PX x PX first, 16-4096' },
  octaves: { type: 'string', value: 'N', default: styleDefault('octaves'), help: 'pyramid levels, 1-12; 1 dreams at full size only' },
  'octave-scale': { type: 'string', value: 'S', default: styleDefault('octaveScale'), help: 'size ratio between neighbouring octaves, more than 1, at most 4' },
  iterations: { type: 'string', value: 'N', default: styleDefault('iterations'), help: 'gradient steps per octave, 1-1000' },
  step: { type: 'string', value: 'S', default: styleDefault('step'), help: 'step size in 1/255 of the picture (the gradient normalised by its mean magnitude), more than 0, at most 100' },
  jitter: { type: 'string', value: 'PX', default: DEFAULT_DREAM.jitter, help: 'largest random roll before each step, at full size, 0-512' },
  seed: { type: 'string', value: 'N', default: DEFAULT_DREAM.seed, help: "seeds the jitter and the noise, so the same settings give the same dream; a zoom's frame N uses seed + N" },
  pyramid: { type: 'string', value: 'N', default: DEFAULT_DREAM.pyramid, help: 'bands of the Laplacian pyramid the gradient is normalised over, 1-8 (1: the whole gradient at once)' },
  'free-colours': { type: 'boolean', help: "step in plain RGB without holding the picture's colour statistics (the old look, with colour casts)" },
  'zoom-frames': { type: 'string', value: 'N', default: ZOOM.frames, help: 'frames of an endless zoom after the first, each dreamed on the last one zoomed in, 0-10000' },
  zoom: { type: 'string', value: 'S', default: ZOOM.scale, help: 'how much each zoom frame enlarges the last, 1-2' },
  rotate: { type: 'string', value: 'DEG', default: ZOOM.rotate, help: 'how far each zoom frame turns the last, degrees, -45 to 45' },
  'models-dir': MODELS_DIR_FLAG,
});

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

/** The classes --class takes on the default dream network, as a wrapped list (a thousand for ImageNet). */
async function classLines(dream: CliDream): Promise<string[]> {
  const spec = dream.manifest.dream;
  if (!spec?.logits || !spec.labels) return [`(${dream.id} has no class labels: --class needs a classifier with labels)`];
  try {
    const labels = (await readFile(join(dream.dir, spec.labels), 'utf8')).split('\n').map((l) => l.trim()).filter(Boolean);
    return [`classes of ${dream.id} (--class NAME, ${labels.length} from ${spec.labels}):`, ...wrapList(labels, 98).map((l) => `  ${l}`)];
  } catch (err) {
    return [`(the classes of ${dream.id} are unavailable: ${(err as Error).message})`];
  }
}

const optional = (values: Record<string, unknown>, key: string, check: (n: number) => boolean): number | undefined =>
  values[key] === undefined ? undefined : numberFlag(values, key, 0, check);

export const dream: Command = {
  name: 'dream',
  summary: 'DeepDream a picture or noise in a style (a layer blend of the dream network), a layer, a channel or a class; optional endless zoom frames',
  usage,
  flags: async () => FLAGS,
  async details() {
    const lines = [
      '',
      'With no options it dreams in the default style of the dream network with that style\'s tuned settings,',
      "and keeps the picture's colours; the flags override the style's settings.",
      '',
    ];
    try {
      const dream = await openCliDream(MODELS_DIR, undefined);
      return [...lines, ...dream.catalogue.describe(), ...(await classLines(dream))].join('\n');
    } catch (err) {
      return [...lines, `(no dream network to list: ${(err as Error).message})`].join('\n');
    }
  },
  async run(argv) {
    const { values } = parseFlags(argv, flagOptions(FLAGS));
    if (!values.out) throw new UsageError('--out is required');
    if (!values.in && !values['from-noise']) throw new UsageError('give --in IMAGE or --from-noise');
    if (values.style !== undefined && values.layer !== undefined) throw new UsageError('--style and --layer are the same flag; give one');
    if (values.class !== undefined && (values.style ?? values.layer ?? values.channel) !== undefined) throw new UsageError('--class dreams toward a class; it cannot go with --style, --layer or --channel');
    if (values.guide !== undefined && (values.class !== undefined || values.channel !== undefined)) throw new UsageError('--guide dreams toward a picture; it cannot go with --class or --channel');
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
    const zoomFrames = numberFlag(values, 'zoom-frames', ZOOM.frames, (n) => Number.isInteger(n) && n >= 0 && n <= 10000);
    const zoom = numberFlag(values, 'zoom', ZOOM.scale, (n) => n >= 1 && n <= 2);
    const rotate = numberFlag(values, 'rotate', ZOOM.rotate, (n) => Math.abs(n) <= 45);
    const channel = optional(values, 'channel', (n) => Number.isInteger(n) && n >= 0);

    const modelsDir = resolve(values['models-dir'] ?? MODELS_DIR);
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
    } else if (values.guide !== undefined) {
      let style;
      try {
        style = dream.catalogue.guide(values.style ?? values.layer ?? '');
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
      spec = style.spec;
      settings = styleSettings(style, flags);
      what = `a dream ${style.description ?? ''} (${values.guide})`;
    } else {
      const style = cliStyle(dream, values.style ?? values.layer, channel);
      spec = style.spec;
      settings = styleSettings(style, flags);
      what = `${style.kind} ${style.name}`;
    }

    // From noise, a class is drawn in lucid's manner (a spectrum, Adam, random moves) rather than dreamed.
    if (values['from-noise'] && values.class !== undefined) return drawClassFromNoise(spec, what, { size, steps: flags.iterations, seed: settings.seed, jitter: flags.jitter, zoomFrames }, resolve(values.out));
    let base: PlanarImage;
    if (values.in) base = await readPlanar(resolve(values.in), size ? { width: size, height: size } : undefined);
    else base = noiseImage(size ?? NOISE_SIZE, size ?? NOISE_SIZE, settings.seed);
    // A zoom is held to the portrait's colours, frame after frame.
    const portrait = settings.keepColours ? pictureBasis(base) : null;

    // A guide is read at the picture's size, so its features are at the scale the dream works at.
    const net = values.guide !== undefined ? await DreamNet.openGuided(spec, await readPlanar(resolve(values.guide), { width: base.width, height: base.height }), 'cpu') : await DreamNet.open(spec, 'cpu');
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
