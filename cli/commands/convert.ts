/**
 * `portraits convert`: a TF.js layers model (model.json + weight shards) into an ONNX
 * model folder (model.onnx + manifest.json) the server's registry can load.
 */
import { relative } from 'node:path';
import { convertTfjsModel, type ConvertProgress } from '../../onnx-compilers/tfjs/convert.js';
import { MODEL_KINDS, type ModelKind } from '../../onnx-compilers/tfjs/manifest.js';
import type { Command } from '../command.js';
import { parseFlags } from '../flags.js';
import { UsageError } from '../command.js';
import { progressBar, type Bar } from '../progress.js';

const USAGE =
  'portraits convert --from DIR/model.json --out models/ID [--id ID] [--input-range LO,HI] [--kind classifier|upscaler|embedder|detector] [--softmax] [--source TEXT] [--licence TEXT]';

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
  async run(argv) {
    const { values } = parseFlags(argv, {
          from: { type: 'string' },
          out: { type: 'string' },
          id: { type: 'string' },
          'input-range': { type: 'string' },
          kind: { type: 'string' },
          softmax: { type: 'boolean' },
          source: { type: 'string' },
          licence: { type: 'string' },
        });
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
