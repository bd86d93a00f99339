/**
 * The visitors' side of the server in one place, so server/app.ts wires it in a few lines:
 * the semantic directions (from the generator manifest), attract mode, the turn policy
 * for many tablets, captures, and the HTTP routes the controller page and phones use.
 * See docs/tablet.md.
 */
import { join } from 'node:path';
import type { Router } from 'express';
import express from 'express';
import type { Manifest } from '../common/manifest.js';
import type { LiveState } from '../common/state.js';
import { TabletFloor, type TurnGate } from './arbitration.js';
import { Attract } from './attract.js';
import { Captures } from './captures.js';
import { CapturePrints } from './capture-prints.js';
import type { ResolvedConfig } from './config.js';
import { captureRequests, captureRoutes } from './inputs/captures.js';
import type { PortraitServer, SocketAccessOptions } from './inputs/socket.js';
import { tabletRoutes } from './inputs/tablet.js';
import { NowShowing } from './inputs/now-showing.js';
import type { FrameJob } from './stages/stage.js';
import type { Store } from './store.js';

/** The manifest's directions as vectors the latent stage adds. */
export function directionVectors(manifest: Manifest): Record<string, Float32Array> {
  return Object.fromEntries(Object.entries(manifest.directions ?? {}).map(([name, d]) => [name, Float32Array.from(d.vector)]));
}

/** What the schema cannot check about state.directions: every name must be one of the model's. */
export function directionProblem(state: Readonly<LiveState>, vectors: Readonly<Record<string, Float32Array>>): string | null {
  const unknown = Object.keys(state.directions).filter((name) => !Object.hasOwn(vectors, name));
  if (unknown.length === 0) return null;
  const known = Object.keys(vectors);
  return `directions: unknown ${unknown.map((n) => `'${n}'`).join(', ')}; this model has ${known.length ? known.join(', ') : 'no named directions'}`;
}

export interface VisitorDeps {
  config: ResolvedConfig;
  store: Store;
  generator: { id: string; manifest: Manifest };
  dreamStyles: { name: string; description?: string }[];
  /** In a cluster: the turn is the whole wall's (server/cluster/shared-turn.ts). */
  turnGate?: TurnGate;
}

export interface Visitors {
  router: Router;
  /** Fields for attachSocketInputs' options. */
  socket: Pick<SocketAccessOptions, 'floor' | 'capture'>;
  /** Give each finished frame to the captures. */
  offer(job: FrameJob): void;
  /** After io exists: turns notify tablets through it; starts the clocks. */
  start(io: PortraitServer, port: () => number): void;
  stop(): void;
  /** Waits for capture prints in the making and frees their upscalers. */
  close(): Promise<void>;
}

export async function openVisitors(deps: VisitorDeps): Promise<Visitors> {
  const { config, store, generator } = deps;
  const licence = generator.manifest.licence;
  const prints = new CapturePrints(config.capturesDir, {
    size: config.capturePrintSize,
    // The live upscaler's family; with live upscaling off a print still deserves the slim passes.
    family: config.upscaler === 'off' ? 'esrgan-slim' : config.upscaler,
    cacheDir: config.upscaleCacheDir,
    provider: 'cpu',
    model: { id: generator.id, rights: [licence.model, licence.data].filter(Boolean).join(' ') },
  });
  const captures = await Captures.open(config.capturesDir, {
    keep: config.capturesKeep,
    size: config.frameSize,
    model: { id: generator.id, ...(generator.manifest.name ? { name: generator.manifest.name } : {}), licence },
    prints,
  });
  const attract = new Attract(store, { idleSeconds: config.attractIdleSeconds, mode: config.attractMode, walkSpeed: config.attractWalkSpeed });
  let io: PortraitServer | null = null;
  let port = () => config.port;
  const floor = new TabletFloor(
    store,
    attract,
    { turnSeconds: config.turnSeconds, idleSeconds: config.turnIdleSeconds },
    (id, status) => {
      // Each node keeps its own tablets' queue (docs/cluster.md): the tablet is this node's client.
      io?.local.to(id).emit('tablet', status);
    },
    deps.turnGate,
  );
  const requests = captureRequests(captures, () => store.state, { publicUrl: config.publicUrl, port: () => port(), listenHost: config.host });

  const router = express.Router();
  router.use(tabletRoutes({ id: generator.id, dir: join(config.modelsDir, generator.id), manifest: generator.manifest, dreamStyles: deps.dreamStyles }));
  router.use(captureRoutes(captures));
  const now = new NowShowing();
  router.use(now.router());

  return {
    router,
    socket: {
      floor,
      capture: (socketId, host) => requests.capture(socketId, host),
    },
    offer(job) {
      captures.offer(job);
      now.offer(job);
    },
    start(server, serverPort) {
      io = server;
      port = serverPort;
      server.on('connection', (socket) => socket.on('disconnect', () => requests.forget(socket.id)));
      attract.start();
      floor.start();
    },
    stop() {
      floor.stop();
      attract.stop();
    },
    close: () => captures.close(),
  };
}
