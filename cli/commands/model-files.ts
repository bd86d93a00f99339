/**
 * `portraits export` and `portraits evaluate`: the Python tools write the model folders,
 * then every manifest they wrote is checked against common/manifest.ts here, so a folder
 * the server's registry would refuse never leaves these commands looking successful.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from '../command.js';
import { UsageError } from '../command.js';
import { describeError } from '../../common/state.js';
import { ManifestSchema, type Manifest } from '../../common/manifest.js';
import { runPython, scriptDetails } from '../python.js';

function argValue(argv: readonly string[], flag: string): string | undefined {
  const i = argv.indexOf(flag);
  return i >= 0 ? argv[i + 1] : argv.find((a) => a.startsWith(flag + '='))?.slice(flag.length + 1);
}

function checkManifest(dir: string): Manifest {
  const path = join(dir, 'manifest.json');
  const parsed = ManifestSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
  if (!parsed.success) throw new Error(`${path} does not match common/manifest.ts: ${describeError(parsed.error)}`);
  process.stderr.write(`${path}: valid manifest (${parsed.data.kind} '${parsed.data.id}')\n`);
  return parsed.data;
}

const wantsHelp = (argv: readonly string[]) => argv.includes('--help') || argv.includes('-h');

export const exportModel: Command = {
  name: 'export',
  summary: 'export a training run or a style checkpoint to ONNX model folders (generator + critic trunk) with manifests and a model card; a face stage checkpoint to its model folder',
  usage: 'portraits export (--run RUN_DIR | --checkpoint FILE) --out models/ID [--id ID] [--critic-out DIR] [--data DIR] [--data-name NAME --data-terms TERMS] [--training-complete] [--max-input 128]',
  details: () => scriptDetails('export.py'),
  async run(argv) {
    const code = await runPython('export.py', argv);
    if (code !== 0 || wantsHelp(argv)) return code;
    const out = argValue(argv, '--out')!.replace(/\/+$/, '');
    // A face stage is one folder; a generator comes with its critic trunk.
    if (checkManifest(out).face) return 0;
    checkManifest(argValue(argv, '--critic-out') ?? `${out}-critic`);
    return 0;
  },
};

export const evaluateModel: Command = {
  name: 'evaluate',
  summary: 'measure a generator (Fréchet distance vs held-out photos, detail, both eyes, face rate, novelty, diversity) into its model card and manifest',
  usage:
    'portraits evaluate --model models/ID --data DATA_DIR [--judge-n 1000] [--sizes 128,256] [--holdout FILE] [--photos DIR] [--eyes-n N] [--no-eyes] [--only-judge | --no-judge] [--n 500] [--novelty 1000] [--detectors tiny,ssd] [--target 0.8]',
  details: () => scriptDetails('evaluate.py'),
  async run(argv) {
    if (!wantsHelp(argv) && !argValue(argv, '--model')) throw new UsageError('--model is required');
    // The Python side runs the Node scripts in models/eval with this same Node.
    process.env.PORTRAITS_NODE ??= process.execPath;
    const code = await runPython('evaluate.py', argv);
    if (code !== 0 || wantsHelp(argv)) return code;
    checkManifest(argValue(argv, '--model')!);
    return 0;
  },
};
