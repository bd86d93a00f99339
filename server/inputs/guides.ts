/**
 * Guide pictures for guided dreams (state dream.guideFrom 'upload'): the VJ/administrator
 * uploads a picture under a name, and dream.guideName picks it.
 *
 *   GET    /api/guides          the names (public, like the preset list)
 *   GET    /api/guides/NAME     the stored picture (PNG)
 *   PUT    /api/guides/NAME     the picture as the body (PNG, JPEG or WebP; admin only)
 *   DELETE /api/guides/NAME     (admin only)
 *
 * An upload is decoded (anything that is not a picture is refused), shrunk to fit
 * GUIDE_SIDE, and written atomically as NAME.png, so a half-written file is never read as
 * a guide. Names follow the state's rule for dream.guideName.
 */
import { mkdir, readdir, rm } from 'node:fs/promises';
import express, { type Response, type Router } from 'express';
import sharp from 'sharp';
import writeFileAtomic from 'write-file-atomic';
import { refusal } from '../../common/protocol.js';
import { StateSchema } from '../../common/state.js';
import { guideFile } from '../dream/guides.js';
import { sendRefusal, type HttpAccess } from './http-hardening.js';

/** Largest upload accepted (bodyLimit lets this path through up to it). */
export const GUIDE_MAX_BYTES = 8 * 1024 * 1024;
/** Stored guides fit in this square: the dream reads them at its own size (128-256 px). */
const GUIDE_SIDE = 512;
const NAME = StateSchema.shape.dream.shape.guideName;

export function guideRoutes(guidesDir: string, access: HttpAccess): Router {
  const router = express.Router();
  const named = (res: Response, name: string): boolean => {
    const ok = name !== '' && NAME.safeParse(name).success;
    if (!ok) sendRefusal(res, refusal('invalid', `guide name '${name}': 1-64 letters, digits, . _ - only`));
    return ok;
  };

  router.get('/api/guides', async (_req, res) => {
    const files = await readdir(guidesDir).catch(() => [] as string[]);
    res.json({ ok: true, guides: files.filter((f) => f.endsWith('.png')).map((f) => f.slice(0, -4)).sort() });
  });

  router.get('/api/guides/:name', (req, res) => {
    if (!named(res, req.params.name)) return;
    res.type('png').sendFile(guideFile(guidesDir, req.params.name), (err) => {
      if (err && !res.headersSent) sendRefusal(res, refusal('not-found', `no guide named '${req.params.name}'`));
    });
  });

  router.put('/api/guides/:name', access.adminOnly, express.raw({ type: () => true, limit: GUIDE_MAX_BYTES }), async (req, res) => {
    const name = String(req.params.name ?? '');
    if (!named(res, name)) return;
    const body = req.body as Buffer | undefined;
    if (!Buffer.isBuffer(body) || body.length === 0) return sendRefusal(res, refusal('invalid', 'send the picture (PNG, JPEG or WebP) as the request body'));
    let png: Buffer;
    let size: { width: number; height: number };
    try {
      const { data, info } = await sharp(body, { limitInputPixels: 64_000_000 })
        .rotate()
        .removeAlpha()
        .resize(GUIDE_SIDE, GUIDE_SIDE, { fit: 'inside', withoutEnlargement: true })
        .png()
        .toBuffer({ resolveWithObject: true });
      png = data;
      size = { width: info.width, height: info.height };
    } catch (err) {
      return sendRefusal(res, refusal('invalid', `not a picture sharp can read: ${(err as Error).message}`));
    }
    try {
      await mkdir(guidesDir, { recursive: true });
      await writeFileAtomic(guideFile(guidesDir, name), png, { fsync: true });
    } catch (err) {
      return sendRefusal(res, refusal('failed', `could not store the guide: ${(err as Error).message}`));
    }
    res.json({ ok: true, name, ...size });
  });

  router.delete('/api/guides/:name', access.adminOnly, async (req, res) => {
    const name = String(req.params.name ?? '');
    if (!named(res, name)) return;
    await rm(guideFile(guidesDir, name), { force: true });
    res.json({ ok: true });
  });
  return router;
}
