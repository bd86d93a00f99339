/**
 * REST: health for the watchdog and technicians, the live state and presets for scripts.
 * Reading is public; writing follows the roles of server/access.ts: visitors may do what
 * a tablet may, the rest needs the VJ/administrator (401/403 with the reason). A refusal
 * answers with its code's status (REFUSAL_STATUS): 409 for not your turn or the visitor
 * lock (try again later), 400 for input that will never be accepted.
 */
import express, { type Request, type Response, type Router } from 'express';
import { refusal, type Ack, type PresetAck, type Status } from '../../common/protocol.js';
import { storeSource, visitorPatchRefusal, type Access } from '../access.js';
import type { TabletFloor } from '../arbitration.js';
import { errorHandler, sendRefusal, type HttpAccess } from './http-hardening.js';
import type { DisplayReport, HealthVerdict } from '../health.js';
import type { LoopDelay } from '../event-loop.js';
import { runPresetCommand, type PresetStore } from '../presets.js';
import type { Step, Store } from '../store.js';
import { withoutInstruments } from '../../common/state.js';

export interface HealthSource {
  status(): Status & {
    uptime: number;
    frames: number;
    stageMs: Record<string, number>;
    /** Frames are made in the frame worker thread (server/pipeline/worker.ts), not the main thread. */
    frameWorker: boolean;
    /** How late the main thread's event loop ran over the last window (server/event-loop.ts). */
    eventLoopMs: LoopDelay;
    fallback?: string;
  };
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

function sendAck(res: Response, ack: Ack | PresetAck): void {
  if (ack.ok) res.json(ack);
  else sendRefusal(res, ack);
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

  router.get('/api/state', async (req, res) => {
    const who = await access.who(req, res);
    if (!who) return;
    // The VJ's instruments (modulation matrix, MIDI mappings) are theirs alone.
    res.json({ state: who === 'admin' ? store.state : withoutInstruments(store.state), version: store.version });
  });

  router.patch('/api/state', async (req, res) => {
    const who = await access.who(req, res);
    if (!who) return;
    const refused = who === 'visitor' ? visitorPatchRefusal(req.body) : null;
    if (refused) return sendRefusal(res, refused);
    sendAck(res, steer(req, who, [{ patch: req.body }]));
  });

  router.post('/api/command', async (req, res) => {
    const who = await access.who(req, res);
    if (!who) return;
    sendAck(res, steer(req, who, [{ command: req.body }]));
  });

  // Malformed JSON and oversized bodies become a 4xx with a reason, not a stack trace.
  router.use(errorHandler);
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
    sendAck(res, await runPresetCommand(presets, store, command, storeSource(who)));
  };
  router.get('/api/presets', (req, res) => run(req, res, { op: 'list' }));
  router.get('/api/presets/:name', async (req, res) => {
    const preset = presets.get(req.params.name);
    if (!preset) return sendRefusal(res, refusal('not-found', `no preset named '${req.params.name}'`));
    const who = await access.who(req, res);
    if (!who) return;
    res.json(who === 'admin' ? preset : { ...preset, state: withoutInstruments(preset.state) });
  });
  router.put('/api/presets/:name', access.adminOnly, (req, res) => run(req, res, { op: 'save', name: req.params.name }));
  router.delete('/api/presets/:name', access.adminOnly, (req, res) => run(req, res, { op: 'delete', name: req.params.name }));
  router.post('/api/presets/:name/load', (req, res) => run(req, res, { op: 'load', name: req.params.name }));
  return router;
}
