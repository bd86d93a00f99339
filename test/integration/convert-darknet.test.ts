/**
 * The Darknet tiny ImageNet classifier from ../shared converted to ONNX (to a temp dir:
 * its weights are third-party data, never committed) and checked against tfjs on real
 * UTKFace photos, plus a sanity look at what it sees in faces.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertTfjsModel } from '../../onnx-compilers/tfjs/convert.js';
import { sharedPath } from '../support/shared.js';
import { loadTfjs, maxAbsDiff, photoBatch, runOnnx, runTfjs, topK } from './convert-support.js';

const modelJson = sharedPath('models/darknet-tiny/model.json');
const faces = sharedPath('datasets/utkface');
/** What ImageNet networks usually see in close-up faces (../shared/README.md). */
const FACE_CLASSES = ['neck brace', 'sunscreen', 'lipstick', 'Band Aid', 'Windsor tie'];

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'portraits-convert-darknet-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe.skipIf(!modelJson || !faces)('Darknet tiny conversion', () => {
  it('matches tfjs on two 224x224 face photos and sees what ImageNet nets see in faces', async () => {
    const out = join(dir, 'darknet-tiny');
    const manifest = await convertTfjsModel(modelJson!, out, { inputRange: [0, 1], softmax: true });
    expect(manifest.kind).toBe('classifier');
    expect(manifest.classes).toBe(1000);
    expect(manifest.conversion.foldedBatchNorms).toBe(15);
    expect(manifest.imageSize).toEqual({ native: [224, 224], dynamic: true, multipleOf: 16 });
    expect(manifest.dream?.layers.map((l) => l.tensor)).toEqual([...Array.from({ length: 15 }, (_, i) => `leaky_re_lu_${i + 1}`), 'logits']);
    expect(manifest.licence.model).toMatch(/^MIT License \(Copyright \(c\) 2018 ml5\)/);

    const names = (await readdir(faces!)).sort();
    const photos = [names[1234]!, names[15678]!].map((n) => join(faces!, n));
    const batch = await photoBatch(photos, 224, 224, [0, 1]);
    const ref = await runTfjs(await loadTfjs(modelJson!), batch);
    const got = await runOnnx(join(out, 'model.onnx'), batch);
    expect(got.logits!.dims).toEqual([2, 1000]);
    const err = maxAbsDiff(got.logits!.data, ref.data);
    console.log(`darknet-tiny 224x224: max abs logit error ${err.toExponential(2)}`);
    expect(err).toBeLessThanOrEqual(1e-4);

    const row0 = got.probabilities!.data.subarray(0, 1000);
    expect(row0.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);

    // Close-up faces look like necks, lips and ties to ImageNet networks: most of about a dozen
    // faces' top classes must be among those (a wrong channel order gives "mask", "orangutan").
    const labels = (await readFile(join(out, 'labels.txt'), 'utf8')).split('\n');
    const dozen = names.filter((_, i) => i % 1975 === 0).map((n) => join(faces!, n));
    const probs = (await runOnnx(join(out, 'model.onnx'), await photoBatch(dozen, 224, 224, [0, 1]), ['probabilities'])).probabilities!;
    const top1 = dozen.map((_, row) => labels[topK(probs.data, 1000, row, 1)[0]!]!);
    console.log(`darknet-tiny top-1 on ${dozen.length} faces: ${top1.join(', ')}`);
    expect(top1.filter((label) => FACE_CLASSES.includes(label)).length).toBeGreaterThanOrEqual(dozen.length / 2);
  }, 120_000);
});
