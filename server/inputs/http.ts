/**
 * REST: health for the watchdog and technicians, the live state and presets for scripts.
 * Reading is public; writing follows the roles of server/access.ts: visitors may do what
 * a tablet may, the rest needs the VJ/administrator (401/403 with the reason).
 */
import express, { type Request, type Response, type NextFunction, type Router } from 'express';
import type { Ack, Status } from '../../common/protocol.js';
import { storeSource, visitorPatchRefusal, type Access } from '../access.js';
import type { TabletFloor } from '../arbitration.js';
import type { HttpAccess } from './http-hardening.js';
import type { DisplayReport, HealthVerdict } from '../health.js';
import { runPresetCommand, type PresetStore } from '../presets.js';
import type { Step, Store } from '../store.js';

export interface HealthSource {
  status(): Status & { uptime: number; frames: number; stageMs: Record<string, number>; fallback?: string };
  /** The verdict with its reasons, whether the opening hours are open, and each display's last heartbeat. */
  health?(): HealthVerdict & { open: boolean; heartbeats: DisplayReport[] };
}

/**
 * A visitor writing over HTTP is one more tablet (named by its address): it takes its turn in
 * the same queue, so a script on a visitor's phone cannot steer past the tablets.
 */
function steerer(store: Store, floor: TabletFloor | undefined) {
  return (req: Request, who: Access, steps: readonly Step[]): Ack =>
    floor ? floor.steer(`http:${req.socket.remoteAddress ?? ''}`, who, steps, storeSource(who)) : store.applyMany(steps, storeSource(who));
}

/** 409 for "not your turn" (try again later), 400 for input that will never be accepted. */
function ackStatus(result: Ack): number {
  if (result.ok) return 200;
  return result.error.startsWith('wait for your turn') || result.error.startsWith('locked') ? 409 : 400;
}

export function httpInputs(store: Store, health: HealthSource, access: HttpAccess, floor?: TabletFloor): Router {
  const router = express.Router();
  const steer = steerer(store, floor);
  router.use(express.json({ limit: '16kb' }));

  router.get('/health', (_req, res) => {
    // Always 200 while the server answers: 'degraded' is for people and monitors, not a reason to restart.
    const s = health.status();
    res.json({ status: 'ok', reasons: [], ...s, ...health.health?.() });
  });

  router.get('/api/state', (_req, res) => {
    res.json({ state: store.state, version: store.version });
  });

  router.patch('/api/state', async (req, res) => {
    const who = await access.who(req, res);
    if (!who) return;
    const refusal = who === 'visitor' ? visitorPatchRefusal(req.body) : null;
    if (refusal) return access.needAdmin(res, refusal);
    const result = steer(req, who, [{ patch: req.body }]);
    res.status(ackStatus(result)).json(result);
  });

  router.post('/api/command', async (req, res) => {
    const who = await access.who(req, res);
    if (!who) return;
    const result = steer(req, who, [{ command: req.body }]);
    res.status(ackStatus(result)).json(result);
  });

  // Malformed JSON and oversized bodies become a 4xx with a reason, not a stack trace.
  router.use((err: Error & { status?: number; type?: string }, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    const status = err.status && err.status >= 400 && err.status < 500 ? err.status : 500;
    res.status(status).json({ ok: false, error: status === 500 ? 'internal error' : err.message });
  });
  return router;
}

/**
 * Presets by name: GET /api/presets (names), GET /api/presets/:name (the saved look),
 * PUT /api/presets/:name (save the current look), DELETE, and POST .../load.
 */
export function presetRoutes(presets: PresetStore, store: Store, access: HttpAccess): Router {
  const router = express.Router();
  const run = async (req: Request, res: Response, command: object) => {
    const who = await access.who(req, res);
    if (!who) return;
    const { ack, status } = await runPresetCommand(presets, store, command, storeSource(who));
    res.status(status).json(ack);
  };
  router.get('/api/presets', (req, res) => run(req, res, { op: 'list' }));
  router.get('/api/presets/:name', (req, res) => {
    const preset = presets.get(req.params.name);
    if (!preset) return void res.status(404).json({ ok: false, error: `no preset named '${req.params.name}'` });
    res.json(preset);
  });
  router.put('/api/presets/:name', access.adminOnly, (req, res) => run(req, res, { op: 'save', name: req.params.name }));
  router.delete('/api/presets/:name', access.adminOnly, (req, res) => run(req, res, { op: 'delete', name: req.params.name }));
  router.post('/api/presets/:name/load', (req, res) => run(req, res, { op: 'load', name: req.params.name }));
  return router;
}
