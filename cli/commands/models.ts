/**
 * `portraits models`: list the installed models, or fetch a third-party one.
 * `fetch darknet-tiny` downloads the Darknet tiny ImageNet classifier (MIT) from the public
 * ml5 data-and-models repository (or takes a local copy with --from), converts it with
 * `portraits convert`, names every layer for what it paints and adds the curated visitor
 * styles. Its converted ONNX ships in models/darknet-tiny (the default dream network), made
 * by exactly this command; fetching again rebuilds it.
 */
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ManifestSchema, type DreamStyleEntry, type Manifest } from '../../common/manifest.js';
import { convertTfjsModel } from '../../onnx-compilers/tfjs/convert.js';
import { listModels } from '../../server/models/registry.js';
import { UsageError, type Command } from '../command.js';
import { flagOptions, flagTable } from '../flags.js';
import { MODELS_DIR, MODELS_DIR_FLAG } from '../model-flags.js';
import { progressBar } from '../progress.js';

const DARKNET_URL = 'https://raw.githubusercontent.com/ml5js/ml5-data-and-models/main/models/darknetclassifier/darknettiny/';

/**
 * Every layer's friendly name: what it paints when a portrait is dreamed on it (judged on
 * dreams of generated portraits; the scale is the layer's size relative to the picture).
 */
const DARKNET_LAYERS: Readonly<Record<string, { name: string; description: string }>> = {
  leaky_re_lu_1: { name: 'grid', description: 'a fine woven grid (full scale)' },
  leaky_re_lu_2: { name: 'hatching', description: 'diagonal hatching and edges (1/2 scale)' },
  leaky_re_lu_3: { name: 'wax', description: 'smooth, waxy shading (1/4 scale)' },
  leaky_re_lu_4: { name: 'clay', description: 'soft clay-like forms (1/4 scale)' },
  leaky_re_lu_5: { name: 'fibres', description: 'wavy fibres and brush strokes (1/4 scale)' },
  leaky_re_lu_6: { name: 'quilt', description: 'quilted cells and bubbles (1/4 scale)' },
  leaky_re_lu_7: { name: 'lattice', description: 'tubes, holes and lattices (1/8 scale)' },
  leaky_re_lu_8: { name: 'irises', description: 'large eyes in swirling rings (1/8 scale)' },
  leaky_re_lu_9: { name: 'whorls', description: 'concentric whorls and eyes (1/8 scale)' },
  leaky_re_lu_10: { name: 'rings', description: 'rings, eyes and ripples; channel 66 paints peacock feathers (1/8 scale)' },
  leaky_re_lu_11: { name: 'critters', description: 'small animal faces (1/16 scale)' },
  leaky_re_lu_12: { name: 'pets', description: 'dogs, monkeys and owls, one per channel: 33 and 77 dogs, 500 owl eyes (1/16 scale)' },
  leaky_re_lu_13: { name: 'menagerie', description: 'monkey and dog faces everywhere (1/16 scale)' },
  leaky_re_lu_14: { name: 'beasts', description: 'fur, snouts and scales (1/16 scale)' },
  leaky_re_lu_15: { name: 'spiders', description: 'hairy, leggy animals (1/16 scale)' },
  logits: { name: 'classes', description: 'the 1000 ImageNet class scores; channel N is class N of labels.txt' },
};

/**
 * The visitors' styles, tuned on generated portraits (256 px) to add structure while the
 * face stays recognisable: the first is the default.
 * Weights balance each term's gradient on a portrait (their mean |gradient| differs by
 * up to 10x), so a blend shows both.
 */
export const DARKNET_STYLES: readonly DreamStyleEntry[] = [
  { name: 'creatures', description: 'monkey and dog faces grow out of the portrait', terms: [{ layer: 'menagerie' }], octaves: 4, iterations: 6, step: 1.5, liveStep: 1 },
  { name: 'eyes', description: 'eyes open everywhere, in swirling rings', terms: [{ layer: 'irises' }, { layer: 'whorls', weight: 0.08 }], octaves: 4, iterations: 5, step: 1, liveStep: 0.7 },
  { name: 'feathers', description: 'peacock feathers and their eyes', terms: [{ layer: 'rings', channel: 66 }], octaves: 4, iterations: 6, step: 1.5, liveStep: 1 },
  { name: 'dogs', description: 'puppies and dog faces', terms: [{ layer: 'pets', channel: 33 }, { layer: 'pets', channel: 77 }], octaves: 4, iterations: 6, step: 1.5, liveStep: 1 },
  { name: 'patterns', description: 'ornaments, cells and lattices', terms: [{ layer: 'quilt' }, { layer: 'lattice', weight: 0.1 }], octaves: 3, iterations: 6, step: 1, liveStep: 0.7 },
  { name: 'strokes', description: 'painterly brush strokes', terms: [{ layer: 'hatching' }, { layer: 'fibres', weight: 0.13 }], octaves: 3, iterations: 6, step: 1, liveStep: 0.7 },
];

async function download(dir: string): Promise<string> {
  const get = async (name: string): Promise<Uint8Array> => {
    let res: Response;
    try {
      res = await fetch(DARKNET_URL + name);
    } catch (err) {
      throw new Error(`cannot reach ${DARKNET_URL} (${(err as Error).message}); without internet, copy the model folder over and use --from DIR`);
    }
    if (!res.ok) throw new Error(`${DARKNET_URL}${name}: HTTP ${res.status}`);
    return new Uint8Array(await res.arrayBuffer());
  };
  const modelJson = await get('model.json');
  await writeFile(join(dir, 'model.json'), modelJson);
  const manifest = JSON.parse(new TextDecoder().decode(modelJson)) as { weightsManifest?: { paths: string[] }[] };
  const paths = (manifest.weightsManifest ?? []).flatMap((g) => g.paths);
  const bar = progressBar('download', paths.length, 'files');
  for (const [i, p] of paths.entries()) {
    await writeFile(join(dir, p), await get(p));
    bar.update(i + 1);
  }
  bar.stop();
  return join(dir, 'model.json');
}

/** Converts Darknet tiny from `from` (a folder with model.json) into `<modelsDir>/darknet-tiny`. */
export async function installDarknet(from: string | null, modelsDir: string): Promise<Manifest> {
  const tmp = await mkdtemp(join(tmpdir(), 'darknet-'));
  try {
    const modelJson = from ? join(resolve(from), 'model.json') : await download(tmp);
    if (!existsSync(modelJson)) throw new UsageError(`${modelJson} does not exist`);
    const out = join(modelsDir, 'darknet-tiny');
    await mkdir(out, { recursive: true });
    const bar = progressBar('convert', 1, 'models');
    await convertTfjsModel(modelJson, out, { id: 'darknet-tiny', kind: 'classifier', inputRange: [0, 1], source: from ? `local copy of ${DARKNET_URL}` : DARKNET_URL });
    bar.update(1);
    bar.stop();
    const path = join(out, 'manifest.json');
    const manifest = JSON.parse(await readFile(path, 'utf8')) as Manifest;
    if (!manifest.dream) throw new Error('the converted classifier has no dream section');
    manifest.dream.layers = manifest.dream.layers.map((l) => ({ ...l, ...(DARKNET_LAYERS[l.tensor] ?? {}) }));
    manifest.dream.styles = [...DARKNET_STYLES];
    // Guided dreams match at 'rings' (1/8 scale, 256 channels): on portraits it carries a guide's
    // spots, eyes and rings; the coarser layers wash the face into the guide's textures (docs/images/dream-guided.jpg).
    manifest.dream.guideLayer = 'rings';
    manifest.dream.logits = 'logits';
    if (existsSync(join(out, 'labels.txt'))) manifest.dream.labels = 'labels.txt';
    const checked = ManifestSchema.parse(manifest);
    await writeFile(path, JSON.stringify(checked, null, 2) + '\n');
    return checked;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** The models `fetch` can install. */
const FETCHABLE = ['darknet-tiny'] as const;

const FLAGS = flagTable({
  from: { type: 'string', value: 'DIR', default: `download from ${DARKNET_URL}`, help: 'fetch: a local copy of the model folder (model.json and its shards) instead of downloading it' },
  'models-dir': MODELS_DIR_FLAG,
});

export const models: Command = {
  name: 'models',
  summary: 'list installed models, or fetch an optional one (darknet-tiny: ImageNet dreams)',
  usage: 'portraits models [list] | portraits models fetch darknet-tiny [--from DIR] [--models-dir DIR]',
  flags: async () => FLAGS,
  async details() {
    return ['', 'verbs:', '  list          every model in --models-dir: its kind, and a dream network\'s styles and layers (the default)', `  fetch NAME    install a third-party model; NAME is one of: ${FETCHABLE.join(', ')}`].join('\n');
  },
  async run(argv) {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: flagOptions(FLAGS) });
    const modelsDir = resolve(values['models-dir'] ?? MODELS_DIR);
    const [verb = 'list', name] = positionals;
    if (verb === 'list') {
      for (const m of await listModels(modelsDir)) {
        const dream = m.manifest.dream;
        const styles = dream?.styles?.length ? `dream styles: ${dream.styles.map((s) => s.name).join(', ')}; layers: ` : 'dream layers: ';
        process.stdout.write(`${m.id.padEnd(22)} ${m.manifest.kind.padEnd(11)} ${dream ? `${styles}${dream.layers.map((l) => l.name).join(', ')}` : ''}\n`.replace(/ +\n$/, '\n'));
      }
      return 0;
    }
    if (verb !== 'fetch') throw new UsageError(`unknown verb '${verb}'`);
    if (name !== FETCHABLE[0]) throw new UsageError(`unknown model '${name ?? ''}'; fetchable: ${FETCHABLE.join(', ')}`);
    const manifest = await installDarknet(values.from ?? null, modelsDir);
    process.stderr.write(`installed ${manifest.id} in ${join(modelsDir, manifest.id)}; dream with: npx portraits dream --in PICTURE --out OUT.png [--style NAME] (portraits help dream lists the styles)\n`);
    return 0;
  },
};
