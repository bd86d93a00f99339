/**
 * The portrait on the screen now, for the tablet's small live view (controller/widgets/now.ts):
 * GET /api/now.jpg answers the newest frame's JPEG as the displays got it (204 before the
 * first). Tablets poll it about once a second while visible, which costs one small response
 * each rather than a stream of every frame. Tile walls send pieces, not portraits: their
 * frames are left out.
 */
import express, { type Router } from 'express';
import type { FrameJob } from '../stages/stage.js';

export class NowShowing {
  private newest: { jpeg: Buffer; frame: number } | null = null;

  offer(job: FrameJob): void {
    if (job.encoded && !job.tile) this.newest = { jpeg: job.encoded, frame: job.meta.frame };
  }

  router(): Router {
    const router = express.Router();
    router.get('/api/now.jpg', (_req, res) => {
      const now = this.newest;
      if (!now) return void res.status(204).set('Cache-Control', 'no-store').end();
      res.type('image/jpeg').set({ 'Cache-Control': 'no-store', 'X-Frame': String(now.frame) }).send(now.jpeg);
    });
    return router;
  }
}
