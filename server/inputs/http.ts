/** REST: health for the watchdog and technicians, and the live state for scripts. */
import express, { type Request, type Response, type NextFunction, type Router } from 'express';
import type { Status } from '../../common/protocol.js';
import type { DisplayReport, HealthVerdict } from '../health.js';
import type { Store } from '../store.js';

export interface HealthSource {
  status(): Status & { uptime: number; frames: number; stageMs: Record<string, number>; fallback?: string };
  /** The verdict with its reasons, whether the opening hours are open, and each display's last heartbeat. */
  health?(): HealthVerdict & { open: boolean; heartbeats: DisplayReport[] };
}

export function httpInputs(store: Store, health: HealthSource): Router {
  const router = express.Router();
  router.use(express.json({ limit: '16kb' }));

  router.get('/health', (_req, res) => {
    // Always 200 while the server answers: 'degraded' is for people and monitors, not a reason to restart.
    const s = health.status();
    res.json({ status: 'ok', reasons: [], ...s, ...health.health?.() });
  });

  router.get('/api/state', (_req, res) => {
    res.json({ state: store.state, version: store.version });
  });

  router.patch('/api/state', (req, res) => {
    const result = store.apply(req.body, 'http');
    res.status(result.ok ? 200 : 400).json(result);
  });

  router.post('/api/command', (req, res) => {
    const result = store.command(req.body, 'http');
    res.status(result.ok ? 200 : 400).json(result);
  });

  // Malformed JSON and oversized bodies become a 4xx with a reason, not a stack trace.
  router.use((err: Error & { status?: number; type?: string }, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    const status = err.status && err.status >= 400 && err.status < 500 ? err.status : 500;
    res.status(status).json({ ok: false, error: status === 500 ? 'internal error' : err.message });
  });
  return router;
}
