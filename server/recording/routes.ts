/**
 * The administrator's recording controls: GET /api/recording/status, POST
 * /api/recording/start, POST /api/recording/stop. All three are admin-only (the same
 * check as saving presets, server/access.ts): recordings fill the disk and the status
 * names files on the server.
 */
import express, { type Response, type Router } from 'express';
import type { HttpAccess } from '../inputs/http-hardening.js';
import { RecordingRefused, type LiveRecorder } from './recorder.js';

export function recordingRoutes(recorder: LiveRecorder, access: HttpAccess): Router {
  const router = express.Router();
  const refused = (res: Response, err: unknown) => {
    if (err instanceof RecordingRefused) return void res.status(err.status).json({ ok: false, error: err.message, status: recorder.status() });
    throw err;
  };
  router.get('/api/recording/status', access.adminOnly, (_req, res) => {
    res.json({ ok: true, status: recorder.status() });
  });
  router.post('/api/recording/start', access.adminOnly, async (req, res) => {
    try {
      res.json({ ok: true, status: await recorder.start(`http:${req.socket.remoteAddress ?? '?'}`) });
    } catch (err) {
      refused(res, err);
    }
  });
  router.post('/api/recording/stop', access.adminOnly, async (_req, res) => {
    try {
      const finished = await recorder.stop('stopped by the administrator');
      res.status(finished.error ? 500 : 200).json({ ok: !finished.error, ...(finished.error ? { error: finished.error } : {}), recording: finished, status: recorder.status() });
    } catch (err) {
      refused(res, err);
    }
  });
  return router;
}
