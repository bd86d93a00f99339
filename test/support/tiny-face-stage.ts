/**
 * A tiny x2 face stage for tests (the real one comes from models/tools/face_sr.py): the
 * same shape of network as FaceSR, a nearest x2 enlargement plus a random 3x3 convolution's
 * sub-pixel (DepthToSpace) detail, inputs and outputs in [-1, 1].
 */
import { writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeModel } from '../../onnx-compilers/proto.js';
import { NetBuilder } from './onnx-nets.js';

export async function writeTinyFaceStage(modelsDir: string, id = 'tiny-face', maxInput = 64): Promise<string> {
  const n = new NetBuilder(31);
  const detail = n.op('DepthToSpace', [n.conv(n.image, 12)], { blocksize: 2 }, 3);
  const out = n.op('Add', [n.resize(n.image, 2), n.op('Mul', [detail, n.weight([1], 0, 0.05)])], {}, 3);
  const dir = join(modelsDir, id);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'face.onnx'), encodeModel(n.build([out])));
  const manifest = {
    id,
    kind: 'upscaler',
    face: { file: 'face.onnx', input: 'image', output: out, scale: 2, range: [-1, 1], maxInput },
    licence: { model: 'test fixture, random weights' },
  };
  await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2));
  return id;
}
