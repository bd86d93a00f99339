/**
 * `portraits models`: list the installed models, or fetch an optional third-party one.
 * `fetch darknet-tiny` downloads the Darknet tiny ImageNet classifier (MIT) from the public
 * ml5 data-and-models repository (or takes a local copy with --from), converts it with
 * `portraits convert`, and gives its layers names visitors understand. Its weights are
 * never part of this repository.
 */
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ManifestSchema, type Manifest } from '../../common/manifest.js';
import { convertTfjsModel } from '../../onnx-compilers/tfjs/convert.js';
import { ROOT_DIR } from '../../server/config.js';
import { listModels } from '../../server/models/registry.js';
import { UsageError, type Command } from '../command.js';
import { progressBar } from '../progress.js';

const DARKNET_URL = 'https://raw.githubusercontent.com/ml5js/ml5-data-and-models/main/models/darknetclassifier/darknettiny/';

/** Friendly names by depth: what the layers at each scale tend to paint when amplified. */
const DARKNET_STYLES: readonly { name: string; tensor: string; description: string }[] = [
  { name: 'strokes', tensor: 'leaky_re_lu_2', description: 'brush strokes and edges (1/2 scale)' },
  { name: 'patterns', tensor: 'leaky_re_lu_6', description: 'ornaments and textures (1/4 scale)' },
  { name: 'eyes', tensor: 'leaky_re_lu_8', description: 'eyes, fur and scales (1/8 scale)' },
  { name: 'creatures', tensor: 'leaky_re_lu_13', description: 'animals, faces and buildings (1/16 scale)' },
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
    const converted = manifest.dream.layers;
    manifest.dream.layers = [...DARKNET_STYLES.filter((s) => converted.some((l) => l.tensor === s.tensor)), ...converted];
    manifest.dream.logits = 'logits';
    if (existsSync(join(out, 'labels.txt'))) manifest.dream.labels = 'labels.txt';
    const checked = ManifestSchema.parse(manifest);
    await writeFile(path, JSON.stringify(checked, null, 2) + '\n');
    return checked;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

export const models: Command = {
  name: 'models',
  summary: 'list installed models, or fetch an optional one (darknet-tiny: ImageNet dreams)',
  usage: 'portraits models [list] | portraits models fetch darknet-tiny [--from DIR] [--models-dir DIR]',
  async run(argv) {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { from: { type: 'string' }, 'models-dir': { type: 'string' } } });
    const modelsDir = resolve(values['models-dir'] ?? join(ROOT_DIR, 'models'));
    const [verb = 'list', name] = positionals;
    if (verb === 'list') {
      for (const m of await listModels(modelsDir)) {
        const styles = m.manifest.dream?.layers.map((l) => l.name).join(', ');
        process.stdout.write(`${m.id.padEnd(22)} ${m.manifest.kind.padEnd(11)} ${styles ? `dream styles: ${styles}` : ''}\n`);
      }
      return 0;
    }
    if (verb !== 'fetch') throw new UsageError(`unknown verb '${verb}'`);
    if (name !== 'darknet-tiny') throw new UsageError(`unknown model '${name ?? ''}'; fetchable: darknet-tiny`);
    const manifest = await installDarknet(values.from ?? null, modelsDir);
    process.stderr.write(`installed ${manifest.id} in ${join(modelsDir, manifest.id)}; dream with: npx portraits dream --model darknet-tiny --layer creatures ...\n`);
    return 0;
  },
};
