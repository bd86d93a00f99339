/**
 * The committed face stage (models/face-sr, `portraits export --checkpoint models/checkpoints/face-sr.pt
 * --out models/face-sr`): the default generator names it, the server opens it as the live path
 * does, it reproduces torch's output, and it lifts a 64 px face to 256 through its 128 px input.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ManifestSchema } from '../../common/manifest.js';
import { ImageOps } from '../../server/dream/image-ops.js';
import { openFaceModel } from '../../server/models/registry.js';
import { FaceStage } from '../../server/stages/face.js';
import { expectMatchesReference, testPattern, type ReferenceSummary } from '../support/model-reference.js';

const MODELS = fileURLToPath(new URL('../../models/', import.meta.url));
const DIR = join(MODELS, 'face-sr');
const present = existsSync(join(DIR, 'manifest.json'));
if (!present) {
  const why = 'models/face-sr is not exported (portraits export --checkpoint models/checkpoints/face-sr.pt --out models/face-sr)';
  if (process.env.CI === 'true') throw new Error(`CI=true but ${why}`);
  console.warn(`skipped: ${why}`);
}

describe.skipIf(!present)('the committed face stage', () => {
  it('is the default generator\'s, lifts 64 px to 256 through its 128 px input, and matches torch', async () => {
    const generator = ManifestSchema.parse(JSON.parse(readFileSync(join(MODELS, 'default-face', 'manifest.json'), 'utf8')));
    const face = (await openFaceModel({ modelsDir: MODELS, faceModel: '', provider: 'cpu' }, generator))!;
    expect(face.id).toBe('face-sr');
    expect(face.spec).toMatchObject({ scale: 2, inputSize: 128 });
    const ops = await ImageOps.create();
    try {
      const stage = new FaceStage(face.session, face.spec, face.id, ops);
      const ref = JSON.parse(readFileSync(join(DIR, 'reference.json'), 'utf8')) as { face: ReferenceSummary };
      const lifted = await stage.lift({ data: testPattern(1, 32).map((v) => (v + 1) / 2), width: 32, height: 32 });
      expectMatchesReference(lifted.data.map((v) => v * 2 - 1), [1, 3, lifted.height, lifted.width], ref.face, 'face stage');
      const small = { data: new Float32Array(3 * 64 * 64).map((_, i) => 0.5 + 0.4 * Math.sin(i / 37)), width: 64, height: 64 };
      const out = await stage.picture(small);
      expect([out.width, out.height]).toEqual([256, 256]);
      for (const v of out.data) expect(v >= 0 && v <= 1).toBe(true);
    } finally {
      await Promise.allSettled([face.session.release(), ops.dispose()]);
    }
  }, 60_000);
});
