/** `portraits dream`: DeepDream a picture (or noise) offline, optionally as an endless zoom. */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ROOT_DIR } from '../../server/config.js';
import { DEFAULT_DREAM, dreamImage, noiseImage, type DreamSettings } from '../../server/dream/engine.js';
import { ImageOps } from '../../server/dream/image-ops.js';
import { DreamNet, type DreamNetSpec } from '../../server/dream/net.js';
import { planarToSharp, readPlanar } from '../../server/image/planar.js';
import { dreamSpec, dreamTensor, readManifest } from '../../server/models/registry.js';
import type { Manifest } from '../../common/manifest.js';
import type { PlanarImage } from '../../server/image/planar-image.js';
import { numberFlag, parseFlags } from '../flags.js';
import { UsageError, type Command } from '../command.js';
import { progressBar } from '../progress.js';

const usage =
  'portraits dream (--in IMAGE | --from-noise) --out OUT.png [--model ID] [--layer NAME] [--channel N] [--class NAME] ' +
  '[--size PX] [--octaves 4] [--octave-scale 1.4] [--iterations 10] [--step 1.5] [--jitter 32] [--seed 0] ' +
  '[--zoom-frames N] [--zoom 1.05] [--rotate DEG] [--models-dir DIR]';

async function classIndex(dir: string, manifest: Manifest, name: string): Promise<{ tensor: string; index: number }> {
  const dream = manifest.dream;
  if (!dream?.logits || !dream.labels) throw new UsageError(`model '${manifest.id}' is not a classifier with labels; --class needs one (e.g. --model darknet-tiny)`);
  const labels = (await readFile(join(dir, dream.labels), 'utf8')).split('\n').map((l) => l.trim().toLowerCase());
  const wanted = name.trim().toLowerCase();
  const index = labels.findIndex((l) => l === wanted);
  if (index < 0) {
    const near = labels.filter((l) => l.includes(wanted)).slice(0, 8);
    throw new UsageError(`class '${name}' is not in ${dream.labels}${near.length ? `; did you mean: ${near.join(', ')}` : ''}`);
  }
  return { tensor: dream.logits, index };
}

export const dream: Command = {
  name: 'dream',
  summary: 'DeepDream a picture or noise with a network layer or class; optional endless zoom frames',
  usage,
  async run(argv) {
    const { values } = parseFlags(argv, {
        in: { type: 'string' }, out: { type: 'string' }, 'from-noise': { type: 'boolean' }, model: { type: 'string' },
        layer: { type: 'string' }, channel: { type: 'string' }, class: { type: 'string' }, size: { type: 'string' },
        octaves: { type: 'string' }, 'octave-scale': { type: 'string' }, iterations: { type: 'string' }, step: { type: 'string' },
        jitter: { type: 'string' }, seed: { type: 'string' }, 'zoom-frames': { type: 'string' }, zoom: { type: 'string' },
        rotate: { type: 'string' }, 'models-dir': { type: 'string' },
      });
    if (!values.out) throw new UsageError('--out is required');
    if (!values.in && !values['from-noise']) throw new UsageError('give --in IMAGE or --from-noise');
    const settings: DreamSettings = {
      octaves: numberFlag(values, 'octaves', DEFAULT_DREAM.octaves, (n) => Number.isInteger(n) && n >= 1 && n <= 12),
      octaveScale: numberFlag(values, 'octave-scale', DEFAULT_DREAM.octaveScale, (n) => n > 1 && n <= 4),
      iterations: numberFlag(values, 'iterations', DEFAULT_DREAM.iterations, (n) => Number.isInteger(n) && n >= 1 && n <= 1000),
      step: numberFlag(values, 'step', DEFAULT_DREAM.step, (n) => n > 0 && n <= 100),
      jitter: numberFlag(values, 'jitter', DEFAULT_DREAM.jitter, (n) => Number.isInteger(n) && n >= 0 && n <= 512),
      seed: numberFlag(values, 'seed', 0, (n) => Number.isInteger(n) && n >= 0),
    };
    const size = values.size === undefined ? undefined : numberFlag(values, 'size', 0, (n) => Number.isInteger(n) && n >= 16 && n <= 4096);
    const zoomFrames = numberFlag(values, 'zoom-frames', 0, (n) => Number.isInteger(n) && n >= 0 && n <= 10000);
    const zoom = numberFlag(values, 'zoom', 1.05, (n) => n >= 1 && n <= 2);
    const rotate = numberFlag(values, 'rotate', 0, (n) => Math.abs(n) <= 45);

    const modelsDir = resolve(values['models-dir'] ?? join(ROOT_DIR, 'models'));
    const id = values.model ?? 'default-face-critic';
    const dir = join(modelsDir, id);
    const manifest = await readManifest(dir);
    let spec: DreamNetSpec;
    if (values.class !== undefined) {
      const { tensor, index } = await classIndex(dir, manifest, values.class);
      spec = { ...dreamSpec(dir, manifest, tensor), objective: { kind: 'class', tensor, index } };
    } else {
      const channel = values.channel === undefined ? undefined : numberFlag(values, 'channel', 0, (n) => Number.isInteger(n) && n >= 0);
      spec = dreamSpec(dir, manifest, dreamTensor(manifest, values.layer), channel);
    }

    let base: PlanarImage;
    if (values.in) base = await readPlanar(resolve(values.in), size ? { width: size, height: size } : undefined);
    else base = noiseImage(size ?? 224, size ?? 224, settings.seed);

    const net = await DreamNet.open(spec, 'cpu');
    const ops = await ImageOps.create();
    try {
      const out = resolve(values.out);
      const frames = 1 + zoomFrames;
      const bar = progressBar('dream', frames * settings.octaves * settings.iterations);
      let done = 0;
      let image = base;
      for (let f = 0; f < frames; f++) {
        if (f > 0) image = await ops.zoomRotate(image, zoom, (rotate * Math.PI) / 180);
        const start = done;
        image = await dreamImage(net, ops, image, { ...settings, seed: settings.seed + f }, (p) => {
          done = start + p.done;
          bar.update(done, `frame ${f + 1}/${frames} objective ${p.objective.toFixed(3)}`);
        });
        done = start + settings.octaves * settings.iterations;
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
