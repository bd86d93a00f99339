/**
 * The converter refuses what it cannot translate, naming the layer and why, instead of
 * writing a model that would compute something else.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertTfjsModel } from '../../onnx-compilers/tfjs/convert.js';
import { ConvertError, UnsupportedLayerError } from '../../onnx-compilers/tfjs/errors.js';

const input = { name: 'photo', class_name: 'InputLayer', config: { batch_input_shape: [null, null, null, 3], name: 'photo' }, inbound_nodes: [] };
const from = (layer: string) => [[[layer, 0, 0, {}]]];

/** A one-layer functional model.json after the input, with float32 weights written as one shard. */
async function modelJson(dir: string, layer: object, weights: { name: string; shape: number[] }[] = []): Promise<string> {
  const name = (layer as { name: string }).name;
  const topology = {
    keras_version: '2.10.0',
    backend: 'tensorflow',
    model_config: { class_name: 'Functional', config: { name: 'm', layers: [input, layer], input_layers: [['photo', 0, 0]], output_layers: [[name, 0, 0]] } },
  };
  const count = weights.reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1), 0);
  await writeFile(join(dir, 'w.bin'), new Uint8Array(count * 4));
  const manifest = [{ paths: ['w.bin'], weights: weights.map((w) => ({ ...w, dtype: 'float32' })) }];
  const path = join(dir, 'model.json');
  await writeFile(path, JSON.stringify({ format: 'layers-model', modelTopology: topology, weightsManifest: manifest }));
  return path;
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'portraits-convert-errors-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const opts = { inputRange: [0, 1] as [number, number], licence: 'test', kind: 'embedder' as const };

describe('converter errors', () => {
  it('names an unsupported layer type and the layer', async () => {
    const layer = { name: 'deconv_1', class_name: 'Conv2DTranspose', config: { name: 'deconv_1', filters: 3, kernel_size: [3, 3] }, inbound_nodes: from('photo') };
    const path = await modelJson(dir, layer, [{ name: 'deconv_1/kernel', shape: [3, 3, 3, 3] }]);
    const err = await convertTfjsModel(path, join(dir, 'out'), opts).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsupportedLayerError);
    expect((err as UnsupportedLayerError).layerType).toBe('Conv2DTranspose');
    expect((err as UnsupportedLayerError).layerName).toBe('deconv_1');
    expect((err as Error).message).toMatch(/layer 'deconv_1' \(Conv2DTranspose\): unsupported layer type 'Conv2DTranspose'; the converter handles Conv2D, /);
  });

  it('names an unsupported setting of a supported layer', async () => {
    const layer = { name: 'up', class_name: 'UpSampling2D', config: { name: 'up', size: [2, 2], interpolation: 'bilinear' }, inbound_nodes: from('photo') };
    await expect(convertTfjsModel(await modelJson(dir, layer), join(dir, 'out'), opts)).rejects.toThrow(/layer 'up' \(UpSampling2D\): interpolation 'bilinear' is not supported/);
  });

  it('says which weight is missing or misshapen', async () => {
    const layer = { name: 'c', class_name: 'Conv2D', config: { name: 'c', filters: 4, kernel_size: [3, 3], padding: 'same', use_bias: true }, inbound_nodes: from('photo') };
    await expect(convertTfjsModel(await modelJson(dir, layer, [{ name: 'c/kernel', shape: [3, 3, 3, 4] }]), join(dir, 'out'), opts)).rejects.toThrow(
      'weight c/bias is missing from the weights manifest',
    );
    await expect(
      convertTfjsModel(await modelJson(dir, layer, [{ name: 'c/kernel', shape: [3, 3, 3, 5] }, { name: 'c/bias', shape: [4] }]), join(dir, 'out'), opts),
    ).rejects.toThrow("weight c/kernel has shape [3,3,3,5], but layer 'c' needs [3,3,3,4]");
  });

  it('asks for the input range when the source does not say it', async () => {
    const layer = { name: 'r', class_name: 'ReLU', config: { name: 'r' }, inbound_nodes: from('photo') };
    const path = await modelJson(dir, layer);
    await expect(convertTfjsModel(path, join(dir, 'out'), { licence: 'test' })).rejects.toThrow(ConvertError);
    await expect(convertTfjsModel(path, join(dir, 'out'), { licence: 'test' })).rejects.toThrow(/--input-range/);
  });

  it('refuses shared layers', async () => {
    const shared = { name: 'r', class_name: 'ReLU', config: { name: 'r' }, inbound_nodes: [[['photo', 0, 0, {}]], [['photo', 0, 0, {}]]] };
    await expect(convertTfjsModel(await modelJson(dir, shared), join(dir, 'out'), opts)).rejects.toThrow(/layer 'r' is called 2 times \(shared layers are not supported\)/);
  });
});
