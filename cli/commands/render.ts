/**
 * `portraits render`: a print. Generator (seed) -> optional offline dream -> the face stage
 * (the generator's own, as live; --face) -> ESRGAN passes (x4, or x2 when that is enough) in overlapping, feathered tiles until the
 * picture is at least --size -> Lanczos resize to exactly --size -> PNG whose metadata
 * carries the seed, model, settings and the statement that the person does not exist.
 * With --compare it writes the README's side-by-side (nearest | bicubic | ESRGAN) instead.
 * With --seeds (a list or ranges: 1-300, 5,17,99) it renders a batch for curation instead:
 * --out is a folder that gets seed-<n>.png per seed through the live path's stack, and a
 * contact sheet (server/render/batch.ts).
 */
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { dreamImage, type DreamSettings } from '../../server/dream/engine.js';
import { ImageOps } from '../../server/dream/image-ops.js';
import { DreamNet } from '../../server/dream/net.js';
import { cliStyle, openCliDream, styleDefault, styleSettings } from '../dream-style.js';
import { DEFAULT_DREAM_MODEL, DEFAULT_MODEL } from '../../server/models/registry.js';
import { dreamNetworkNames, dreamStyleNames, generatorNames, MODELS_DIR, MODELS_DIR_FLAG } from '../model-flags.js';
import type { PlanarImage } from '../../server/image/planar-image.js';
import { describeCheck, UPSCALER_FAMILIES, type ConvertedUpscaler, type UpscaleFactor, type UpscalerFamily } from '../../server/upscale/converted.js';
import { planName, stackToSize } from '../../server/upscale/plan.js';
import { comparisonPng, openPrintFace, openPrintGenerator, writePrint } from '../../server/upscale/print.js';
import { upscaleStack } from '../../server/upscale/stack.js';
import { Upscaler } from '../../server/upscale/upscaler.js';
import { flagOptions, flagTable, int, numberFlag, parseFlags } from '../flags.js';
import { parseSeedList } from '../seeds.js';
import { renderSeeds } from '../../server/render/batch.js';
import type { UpscaleChoice } from '../../server/render/enlarge.js';
import { UsageError, type Command } from '../command.js';
import { progressBar, type Bar } from '../progress.js';

const DEFAULTS = { seed: 42, size: 4096, compareSize: 256, upscaler: 'esrgan-medium', tile: 256, overlap: 32, dreamSize: 128, dpi: 300 } as const;
/** A batch (--seeds) is the live path's stack: small stills, the fast upscaler. */
const BATCH_DEFAULTS = { size: 256, upscaler: 'esrgan-slim' } as const;
const CACHE_DIR = join(MODELS_DIR, '.converted');

const usage =
  `portraits render --seeds 1-300 --out DIR [--size ${BATCH_DEFAULTS.size}] [--model ${DEFAULT_MODEL}] [--upscaler esrgan-slim|esrgan-medium|off] [--face ID|off] [--models-dir DIR] [--cache-dir DIR]\n` +
  `       portraits render --out OUT.png [--seed ${DEFAULTS.seed}] [--size ${DEFAULTS.size}] [--model ${DEFAULT_MODEL}] [--upscaler esrgan-medium|esrgan-slim] ` +
  `[--tile ${DEFAULTS.tile}] [--overlap ${DEFAULTS.overlap}] [--dream] [--dream-model ID] [--dream-layer STYLE|LAYER|LAYER:N] [--dream-iterations N] [--dream-octaves N] ` +
  `[--dream-step S] [--dream-size PX] [--dpi ${DEFAULTS.dpi}] [--face ID|off] [--compare] [--models-dir DIR] [--cache-dir DIR]`;

const FLAGS = flagTable({
  out: { type: 'string', value: 'OUT.png', required: true, help: "the print's PNG; with --seeds, the folder for seed-N.png and the contact sheet" },
  seed: { type: 'string', value: 'N', default: DEFAULTS.seed, help: "the portrait's seed, 0 to 2147483647" },
  seeds: { type: 'string', value: 'LIST', help: "a batch for curation instead of a print: seeds as a list and ranges (1-300, 5,17,99), rendered through the live path's stack into the --out folder with a contact sheet" },
  size: {
    type: 'string',
    value: 'PX',
    default: `${DEFAULTS.size}; ${DEFAULTS.compareSize} with --compare; ${BATCH_DEFAULTS.size} with --seeds`,
    help: 'side of the picture in pixels, 16-16384 (16-4096 with --seeds)',
  },
  model: { type: 'string', value: 'ID', default: DEFAULT_MODEL, help: 'the generator, by its folder in --models-dir', names: generatorNames },
  upscaler: {
    type: 'string',
    value: 'NAME',
    default: `${DEFAULTS.upscaler}; ${BATCH_DEFAULTS.upscaler} with --seeds`,
    help: "ESRGAN family of the upscale passes; 'off' (no enlargement) only with --seeds",
    names: [...UPSCALER_FAMILIES, 'off'],
  },
  tile: { type: 'string', value: 'PX', default: DEFAULTS.tile, help: 'side of the tiles the ESRGAN passes work in, 8-1024' },
  overlap: { type: 'string', value: 'PX', default: `${DEFAULTS.overlap}, at most half the tile`, help: 'how far neighbouring tiles overlap (feathered), 0 to half the tile' },
  dream: { type: 'boolean', help: 'dream the portrait before it is upscaled (any --dream-* flag does too)' },
  'dream-model': { type: 'string', value: 'ID', default: `${DEFAULT_DREAM_MODEL}, else the generator's critic`, help: 'the dream network, by its folder in --models-dir', names: dreamNetworkNames },
  'dream-layer': { type: 'string', value: 'NAME', default: "the network's first style", help: "a style, a layer or LAYER:N (channel N of a layer) of the dream network; the names are the default network's", names: dreamStyleNames },
  'dream-iterations': { type: 'string', value: 'N', default: styleDefault('iterations'), help: 'gradient steps per octave, 1-1000' },
  'dream-octaves': { type: 'string', value: 'N', default: styleDefault('octaves'), help: 'pyramid levels, 1-12' },
  'dream-step': { type: 'string', value: 'S', default: styleDefault('step'), help: 'step size in 1/255 of the picture, more than 0, at most 100' },
  'dream-size': { type: 'string', value: 'PX', default: DEFAULTS.dreamSize, help: 'side the portrait is dreamed at before the upscale, 16-2048' },
  dpi: { type: 'string', value: 'N', default: DEFAULTS.dpi, help: "resolution recorded in the PNG, which sets the print's size in cm, 1-2400" },
  face: { type: 'string', value: 'ID', default: "the generator's own face stage, when installed", help: "the face stage that lifts the portrait before the ESRGAN passes (as live), by its folder in --models-dir; 'off' for none" },
  compare: { type: 'boolean', help: "write the side-by-side of nearest, bicubic and ESRGAN (one x4 pass) instead of a print" },
  'models-dir': MODELS_DIR_FLAG,
  'cache-dir': { type: 'string', value: 'DIR', default: CACHE_DIR, help: 'where upscalers converted from their npm packages are cached' },
});

export const render: Command = {
  name: 'render',
  summary: 'render a print: a seed\'s portrait, optionally dreamed, upscaled by stacked ESRGAN passes to --size, PNG with metadata',
  usage,
  flags: async () => FLAGS,
  async run(argv) {
    const { values } = parseFlags(argv, flagOptions(FLAGS));
    if (!values.out) throw new UsageError('--out is required');
    if (values.seeds !== undefined) return renderBatch(values);
    const family = (values.upscaler ?? DEFAULTS.upscaler) as UpscalerFamily;
    if (!UPSCALER_FAMILIES.includes(family)) throw new UsageError(`--upscaler must be one of ${UPSCALER_FAMILIES.join(', ')}`);
    const seed = numberFlag(values, 'seed', DEFAULTS.seed, int(0, 2 ** 31 - 1));
    const compare = values.compare === true;
    const size = numberFlag(values, 'size', compare ? DEFAULTS.compareSize : DEFAULTS.size, int(16, 16384));
    const tile = numberFlag(values, 'tile', DEFAULTS.tile, int(8, 1024));
    const overlap = numberFlag(values, 'overlap', Math.min(DEFAULTS.overlap, Math.floor(tile / 2)), int(0, Math.floor(tile / 2)));
    const dreaming = values.dream === true || Object.keys(values).some((k) => k.startsWith('dream-'));
    const optional = (key: string, check: (n: number) => boolean) => ((values as Record<string, unknown>)[key] === undefined ? undefined : numberFlag(values, key, 0, check));
    const dreamFlags: Partial<DreamSettings> = {
      octaves: optional('dream-octaves', int(1, 12)),
      iterations: optional('dream-iterations', int(1, 1000)),
      step: optional('dream-step', (n) => n > 0 && n <= 100),
      seed,
    };
    const dreamSize = numberFlag(values, 'dream-size', DEFAULTS.dreamSize, int(16, 2048));
    const dpi = numberFlag(values, 'dpi', DEFAULTS.dpi, int(1, 2400));
    const modelsDir = resolve(values['models-dir'] ?? MODELS_DIR);
    const cacheDir = resolve(values['cache-dir'] ?? CACHE_DIR);
    const out = resolve(values.out);

    const generator = await openPrintGenerator(modelsDir, values.model ?? DEFAULT_MODEL);
    const upscalers = new Map<UpscaleFactor, Upscaler>();
    const ops = await ImageOps.create();
    // The README's comparison is of the ESRGAN pass alone; a print starts as the live path does.
    const face = compare ? null : await openPrintFace(modelsDir, generator, values.face ?? '').catch(async (err: Error) => {
      await Promise.allSettled([generator.dispose(), ops.dispose()]);
      throw err;
    });
    try {
      let image = await generator.paint(seed);
      const small = image;
      let dreamInfo: Record<string, unknown> | null = null;
      if (dreaming) {
        const network = await openCliDream(modelsDir, values['dream-model'], generator.manifest);
        const style = cliStyle(network, values['dream-layer']);
        const dream = styleSettings(style, dreamFlags);
        const net = await DreamNet.open(style.spec, 'cpu');
        try {
          image = await ops.resize(image, dreamSize, dreamSize);
          const bar = progressBar('dream  ', dream.octaves * dream.iterations);
          image = await dreamImage(net, ops, image, dream, (p) => bar.update(p.done, `objective ${p.objective.toFixed(3)}`));
          bar.stop();
        } finally {
          await net.dispose();
        }
        dreamInfo = { model: network.id, layer: style.name, size: dreamSize, ...dream };
      }
      if (face) {
        const from = image.width;
        image = await face.lift(image);
        process.stderr.write(`face stage ${face.id}: ${from} px -> ${image.width} px\n`);
      }

      const plan = compare ? stackToSize(image.width, size, [4]) : stackToSize(image.width, size);
      const converted: ConvertedUpscaler[] = [];
      for (const f of new Set(plan)) {
        const bars = conversionBars();
        const loaded = await Upscaler.load(family, f, 'cpu', { cacheDir, onProgress: bars.update }).finally(bars.stop);
        upscalers.set(f, loaded.upscaler);
        converted.push(loaded.converted);
        process.stderr.write(`${loaded.converted.id}: ${loaded.converted.fresh ? 'converted' : 'cached'} in ${loaded.converted.dir}; ${describeCheck(loaded.converted)}\n`);
      }

      let bar: Bar | null = null;
      const started = performance.now();
      const upscaled = await upscaleStack(image, plan, upscalers, {
        tile,
        overlap,
        onTile: (done, total, pass) => {
          bar ??= progressBar('upscale', total, 'tiles');
          bar.update(done, `pass ${pass}/${plan.length} (${planName(plan)})`);
        },
      });
      (bar as Bar | null)?.stop();
      const seconds = (performance.now() - started) / 1000;
      process.stderr.write(`upscaled ${image.width} px -> ${upscaled.width} px with ${family} ${planName(plan)} in ${seconds.toFixed(1)} s\n`);

      if (compare) {
        await writeFile(out, await comparisonPng(small, upscaled, size, `${family} ${planName(plan)}`));
        process.stderr.write(`wrote ${out}\n`);
        return 0;
      }
      const licence = generator.manifest.licence;
      await writePrint(upscaled, size, out, {
        seed,
        model: generator.id,
        rights: [licence.model, licence.data].filter(Boolean).join(' '),
        settings: {
          size,
          generator: { id: generator.id, resolution: generator.spec.resolution },
          dream: dreamInfo,
          face: face?.id ?? null,
          upscaler: { family, passes: planName(plan), packages: [...new Set(converted.map((c) => `${c.key.package}@${c.key.version}`))], tile, overlap },
          resize: upscaled.width === size ? null : `${upscaled.width} -> ${size} lanczos3`,
        },
        software: 'Imaginary Portraits (portraits render)',
        created: new Date(),
      }, dpi);
      process.stderr.write(`wrote ${out} (${size}x${size} px, ${((size / dpi) * 2.54).toFixed(1)} cm at ${dpi} dpi; seed ${seed}, model ${generator.id})\n`);
      return 0;
    } finally {
      await Promise.allSettled([generator.dispose(), ops.dispose(), ...(face ? [face.dispose()] : []), ...[...upscalers.values()].map((u) => u.dispose())]);
    }
  },
};

/** Print-only options that a batch does not take (it is the live path's stack, without a dream). */
const PRINT_ONLY = ['seed', 'tile', 'overlap', 'dream', 'dream-model', 'dream-layer', 'dream-iterations', 'dream-octaves', 'dream-step', 'dream-size', 'dpi', 'compare'] as const;

/** `--seeds`: one still per seed into the --out folder, plus a contact sheet. */
async function renderBatch(values: Record<string, string | boolean | undefined>): Promise<number> {
  const given = PRINT_ONLY.filter((k) => values[k] !== undefined);
  if (given.length) throw new UsageError(`--seeds renders stills through the live stack; it does not take ${given.map((k) => `--${k}`).join(', ')} (render one seed at a time for a print)`);
  const seeds = parseSeedList(values.seeds as string | undefined, '1-300');
  const upscale = (values.upscaler ?? BATCH_DEFAULTS.upscaler) as UpscaleChoice;
  if (upscale !== 'off' && !UPSCALER_FAMILIES.includes(upscale)) throw new UsageError(`--upscaler must be one of ${[...UPSCALER_FAMILIES, 'off'].join(', ')}`);
  const size = numberFlag(values, 'size', BATCH_DEFAULTS.size, int(16, 4096));
  const outDir = resolve(values.out as string);
  const bar = progressBar('render ', seeds.length, 'seeds');
  const result = await renderSeeds(
    {
      seeds,
      size,
      upscale,
      outDir,
      model: (values.model as string | undefined) ?? DEFAULT_MODEL,
      modelsDir: resolve((values['models-dir'] as string | undefined) ?? MODELS_DIR),
      cacheDir: resolve((values['cache-dir'] as string | undefined) ?? CACHE_DIR),
      face: (values.face as string | undefined) ?? '',
    },
    (done, _total, seed) => bar.update(done, `seed ${seed}`),
    (note) => process.stderr.write(`${note}\n`),
  ).finally(() => bar.stop());
  process.stderr.write(`wrote ${result.files.length} stills (${size}x${size} px, ${result.face ? `face stage ${result.face}, then ` : ''}${result.enlarge}) and ${result.sheet}\n`);
  return 0;
}

/** A bar per conversion step, shown only when a conversion actually runs (first use). */
function conversionBars(): { update: (p: { id: string; step: string; done: number; total: number }) => void; stop: () => void } {
  let key = '';
  let bar: Bar | null = null;
  return {
    update(p) {
      if (`${p.id}:${p.step}` !== key) {
        bar?.stop();
        key = `${p.id}:${p.step}`;
        bar = progressBar(`convert ${p.id}: ${p.step}`, p.total);
      }
      bar!.update(p.done);
    },
    stop: () => bar?.stop(),
  };
}
