import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ManifestSchema } from '../../common/manifest.js';

const MODELS_DIR = fileURLToPath(new URL('../../models/', import.meta.url));
const sha = 'a'.repeat(64);

const generator = () => ({
  id: 'default-face',
  kind: 'generator',
  files: [{ path: 'generator.onnx', role: 'weights', format: 'onnx', bytes: 6_844_383, sha256: sha, opset: 13 }],
  inputs: [{ name: 'z', dims: ['N', 128], dtype: 'float32' }],
  outputs: [{ name: 'image', dims: ['N', 3, 64, 64], dtype: 'float32', range: [-1, 1], layout: 'NCHW RGB' }],
  generator: { file: 'generator.onnx', input: 'z', output: 'image', latentSize: 128, distribution: 'normal', resolution: 64, range: [-1, 1], layout: 'NCHW' },
  related: { critic: 'default-face-critic' },
  licence: {
    model: 'project-made; data terms apply',
    data: 'UTKFace: non-commercial research only',
    commercialUse: false,
    datasets: [{ name: 'UTKFace', source: 'https://susanqq.github.io/UTKFace/', images: 18554, terms: 'non-commercial research only' }],
  },
  training: { steps: 10, settings: { batch: 32 } },
  metrics: { faceRate: { ratio: 0.9 } },
});

const critic = () => ({
  id: 'default-face-critic',
  kind: 'critic',
  files: [{ path: 'critic.onnx', role: 'weights', format: 'onnx', bytes: 2_000_000 }],
  inputs: [{ name: 'image', dims: ['N', 3, 'H', 'W'], dtype: 'float32', range: [-1, 1] }],
  outputs: [{ name: 'feat32', dims: ['N', 32, 'H/2', 'W/2'], dtype: 'float32' }],
  dream: { file: 'critic.onnx', input: 'image', range: [-1, 1], layers: [{ name: 'textures', tensor: 'feat32', channels: 32 }] },
  licence: { model: 'm' },
});

describe('model manifest schema', () => {
  it('accepts a full generator manifest and a critic manifest', () => {
    expect(ManifestSchema.safeParse(generator()).success).toBe(true);
    expect(ManifestSchema.safeParse(critic()).success).toBe(true);
  });

  it('accepts a converted model that says only id, kind and licence', () => {
    expect(ManifestSchema.safeParse({ id: 'darknet-tiny', kind: 'classifier', licence: { model: 'MIT' } }).success).toBe(true);
  });

  it('refuses a runner file that is not among the listed files', () => {
    const m = generator();
    m.generator.file = 'other.onnx';
    const r = ManifestSchema.safeParse(m);
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toContain('other.onnx is not in files');
  });

  it('refuses paths outside the model folder, reversed ranges, unknown kinds and a missing licence', () => {
    const outside = generator();
    outside.files[0]!.path = '../x.onnx';
    expect(ManifestSchema.safeParse(outside).success).toBe(false);
    const reversed = generator();
    reversed.generator.range = [1, -1];
    expect(ManifestSchema.safeParse(reversed).success).toBe(false);
    expect(ManifestSchema.safeParse({ ...generator(), kind: 'toaster' }).success).toBe(false);
    const { licence: _dropped, ...unlicensed } = generator();
    expect(ManifestSchema.safeParse(unlicensed).success).toBe(false);
  });

  it('refuses a latent direction whose length is not the latent size, accepts one that is', () => {
    expect(ManifestSchema.safeParse({ ...generator(), directions: { age: { vector: [1, 2, 3] } } }).success).toBe(false);
    expect(ManifestSchema.safeParse({ ...generator(), directions: { age: { vector: new Array(128).fill(0.1) } } }).success).toBe(true);
  });

  it('refuses a bad sha256 and non-positive dims', () => {
    const badHash = generator();
    badHash.files[0]!.sha256 = 'xyz';
    expect(ManifestSchema.safeParse(badHash).success).toBe(false);
    const zeroDim = generator();
    zeroDim.inputs[0]!.dims = ['N', 0];
    expect(ManifestSchema.safeParse(zeroDim).success).toBe(false);
  });

  describe('generator.style (a W space: truncation and style mixing inputs)', () => {
    const style = () => ({
      psi: 'psi',
      mixInput: 'z_mix',
      mixFrom: 'mix_from',
      wSize: 256,
      layers: 13,
      layerResolutions: [4, 4, 8, 8, 8, 16, 16, 16, 32, 32, 32, 64, 64],
      groups: { coarse: { first: 0, last: 4, resolutions: [4, 8] }, middle: { first: 5, last: 10 }, fine: { first: 11, last: 12, description: 'colour' } },
    });
    const withStyle = (s: unknown) => {
      const m = generator();
      return { ...m, generator: { ...m.generator, style: s } };
    };
    const issues = (s: unknown) => {
      const r = ManifestSchema.safeParse(withStyle(s));
      return r.success ? '' : JSON.stringify(r.error.issues);
    };

    it('accepts a style section and keeps it; a generator without one is still valid', () => {
      const r = ManifestSchema.safeParse(withStyle(style()));
      expect(r.success, issues(style())).toBe(true);
      expect(r.data?.generator?.style?.groups.fine.first).toBe(11);
      expect(ManifestSchema.parse(generator()).generator?.style).toBeUndefined();
    });

    it('refuses layer groups that leave a gap, overlap, miss the last layer or do not start at 0', () => {
      const gap = style();
      gap.groups.middle.first = 6;
      expect(issues(gap)).toContain('must be 5, right after coarse');
      const overlap = style();
      overlap.groups.fine.first = 10;
      expect(issues(overlap)).toContain('must be 11, right after middle');
      const short = style();
      short.groups.fine.last = 11;
      expect(issues(short)).toContain('must be 12, the last of 13 layers');
      const late = style();
      late.groups.coarse.first = 1;
      expect(issues(late)).toContain('must be 0');
      const reversed = style();
      reversed.groups.coarse.last = -1;
      expect(issues(reversed)).not.toBe('');
    });

    it('refuses a missing input name, a wrong resolution count and inputs that share a name', () => {
      const { psi: _psi, ...noPsi } = style();
      expect(issues(noPsi)).toContain('psi');
      expect(issues({ ...style(), layerResolutions: [4, 8] })).toContain('has 2 entries for 13 layers');
      expect(issues({ ...style(), mixInput: 'z' })).toContain('must have different names');
      expect(issues({ ...style(), layers: 0 })).not.toBe('');
    });
  });

  it('every committed models/*/manifest.json is valid', () => {
    const dirs = readdirSync(MODELS_DIR, { withFileTypes: true }).filter((d) => d.isDirectory() && existsSync(join(MODELS_DIR, d.name, 'manifest.json')));
    for (const d of dirs) {
      const r = ManifestSchema.safeParse(JSON.parse(readFileSync(join(MODELS_DIR, d.name, 'manifest.json'), 'utf8')));
      expect(r.success, `models/${d.name}/manifest.json: ${JSON.stringify(r.error?.issues)}`).toBe(true);
      expect(r.data?.id).toBe(d.name);
    }
  });
});
