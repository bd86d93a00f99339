/**
 * `portraits convert`: a TF.js layers model (model.json + weight shards) into an ONNX
 * model folder (model.onnx + manifest.json) the server's registry can load.
 */
import { relative } from 'node:path';
import { convertTfjsModel, type ConvertProgress } from '../../onnx-compilers/tfjs/convert.js';
import { MODEL_KINDS, type ModelKind } from '../../onnx-compilers/tfjs/manifest.js';
import type { Command } from '../command.js';
import { flagOptions, flagTable, parseFlags } from '../flags.js';
import { UsageError } from '../command.js';
import { progressBar, type Bar } from '../progress.js';

const USAGE =
  'portraits convert --from DIR/model.json --out models/ID [--id ID] [--input-range LO,HI] [--kind classifier|upscaler|embedder|detector] [--softmax] [--source TEXT] [--licence TEXT]';

/** The defaults are the converter's (onnx-compilers/tfjs/convert.ts ConvertOptions): most are read off the model's files. */
const FLAGS = flagTable({
  from: { type: 'string', value: 'DIR/model.json', required: true, help: "the TF.js layers model's model.json; its weight shards sit beside it" },
  out: { type: 'string', value: 'DIR', required: true, help: 'the model folder to write: model.onnx and manifest.json (e.g. models/ID)' },
  id: { type: 'string', value: 'ID', default: "the --out folder's name", help: "the model's id in its manifest" },
  'input-range': {
    type: 'string',
    value: 'LO,HI',
    default: 'known for the @upscalerjs ESRGAN packages, else required',
    help: 'the pixel values the model expects, e.g. 0,1 or 0,255 (TF.js files do not record it)',
  },
  kind: { type: 'string', value: 'KIND', default: 'read off the output: a vector is a classifier, a larger image an upscaler', help: 'what the model is', names: MODEL_KINDS },
  softmax: { type: 'boolean', help: 'classifiers: also output `probabilities`, the softmax over the logits' },
  source: { type: 'string', value: 'TEXT', default: 'the npm package@version and path, else the model.json path', help: 'where the model came from, recorded in the manifest' },
  licence: { type: 'string', value: 'TEXT', default: "its npm package's licence, else a LICENSE file beside it", help: "the model's licence, recorded in the manifest" },
});

function parseRange(text: string): [number, number] {
  const parts = text.split(',').map(Number);
  if (parts.length !== 2 || parts.some((n) => !Number.isFinite(n)) || parts[0]! >= parts[1]!) {
    throw new UsageError(`--input-range wants LO,HI with LO < HI (e.g. 0,1 or 0,255), got '${text}'`);
  }
  return [parts[0]!, parts[1]!];
}

/** One progress bar per conversion step (weights, layers, onnxruntime check, files). */
function progressBars(): { update: (p: ConvertProgress) => void; stop: () => void } {
  let step = '';
  let bar: Bar | null = null;
  return {
    update(p) {
      if (p.step !== step) {
        bar?.stop();
        step = p.step;
        bar = progressBar(p.step.padEnd(22), p.total, p.step === 'read weights' ? 'shards' : p.step === 'convert layers' ? 'layers' : 'steps');
      }
      bar!.update(p.done);
    },
    stop: () => bar?.stop(),
  };
}

export const convert: Command = {
  name: 'convert',
  summary: 'convert a TF.js layers model (Keras model.json + shards) into an ONNX model folder with a manifest',
  usage: USAGE,
  flags: async () => FLAGS,
  async run(argv) {
    const { values } = parseFlags(argv, flagOptions(FLAGS));
    if (!values.from || !values.out) throw new UsageError('--from and --out are required');
    if (values.kind && !MODEL_KINDS.includes(values.kind as ModelKind)) throw new UsageError(`--kind must be one of ${MODEL_KINDS.join(', ')}`);
    const bars = progressBars();
    const manifest = await convertTfjsModel(values.from, values.out, {
      ...(values.id ? { id: values.id } : {}),
      ...(values.kind ? { kind: values.kind as ModelKind } : {}),
      ...(values['input-range'] ? { inputRange: parseRange(values['input-range']) } : {}),
      ...(values.softmax ? { softmax: true } : {}),
      ...(values.source ? { source: values.source } : {}),
      ...(values.licence ? { licence: values.licence } : {}),
      onProgress: bars.update,
    }).finally(bars.stop);
    const onnx = manifest.files.find((f) => f.role === 'weights')!;
    const io = (list: typeof manifest.outputs) => list.map((t) => `${t.name}[${t.dims.join(',')}]`).join(' ');
    process.stdout.write(
      [
        `${manifest.kind} '${manifest.id}' -> ${relative(process.cwd(), values.out) || '.'}/${onnx.path}`,
        `  ${io(manifest.inputs)} -> ${io(manifest.outputs)}`,
        `  ${manifest.conversion.parameters.toLocaleString('en')} parameters, ${(onnx.bytes / 1e6).toFixed(2)} MB, ${manifest.conversion.foldedBatchNorms} batch norms folded, ${manifest.conversion.seconds} s`,
        ...manifest.conversion.warnings.map((w) => `  warning: ${w}`),
      ].join('\n') + '\n',
    );
    return 0;
  },
};
