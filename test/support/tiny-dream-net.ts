/**
 * A tiny random-weight "critic" (conv, leaky ReLU, pooling) saved as a dream network
 * model folder, so dream tests run the real compiler, engine and stage without the
 * trained model.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeModel } from '../../onnx-compilers/proto.js';
import { NetBuilder } from './onnx-nets.js';

export const TINY_LAYERS = [
  { name: 'strokes', tensor: 'low' },
  { name: 'shapes', tensor: 'high' },
] as const;

/** Writes `<root>/<id>/{critic.onnx,manifest.json}`. */
export async function writeTinyDreamNet(root: string, id = 'tiny-critic'): Promise<string> {
  const b = new NetBuilder(11);
  const low = b.lrelu(b.conv(b.image, 8, { k: 3, pad: 1 }));
  const pooled = b.avgPool(low, 2, 2);
  const high = b.lrelu(b.conv(pooled, 16, { k: 3, pad: 1 }));
  const m = b.build([low, high]);
  // give the two block outputs stable names
  for (const n of m.graph!.node!) n.output = n.output!.map((o) => (o === low ? 'low' : o === high ? 'high' : o));
  for (const n of m.graph!.node!) n.input = n.input!.map((i) => (i === low ? 'low' : i === high ? 'high' : i));
  for (const o of m.graph!.output!) o.name = o.name === low ? 'low' : o.name === high ? 'high' : o.name;
  const dir = join(root, id);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'critic.onnx'), encodeModel(m));
  await writeFile(
    join(dir, 'manifest.json'),
    JSON.stringify({ id, kind: 'critic', dream: { file: 'critic.onnx', input: 'image', range: [-1, 1], layers: TINY_LAYERS }, licence: { model: 'test fixture, random weights' } }, null, 2),
  );
  return dir;
}
