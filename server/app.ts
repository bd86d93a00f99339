/**
 * Starts the installation's server: configuration, model, live state, frame loop,
 * HTTP (pages, health, REST, OSCQuery), socket.io and OSC, and a close() that releases all of it.
 */
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import express from 'express';
import { Server } from 'socket.io';
import { mixProblem } from '../common/generator-inputs.js';
import { guideProblem, type GuideFolders } from './dream/guides.js';
import { ROOMS, SOCKET_PATH, type Status } from '../common/protocol.js';
import { resolveConfig, type ResolvedConfig, type UserConfig } from './config.js';
import { DisplayHub } from './displays.js';
import { DisplayHeartbeats, assessHealth } from './health.js';
import { httpInputs, presetRoutes } from './inputs/http.js';
import { GUIDE_MAX_BYTES, guideRoutes } from './inputs/guides.js';
import { AuthFailures, HttpAccess, bodyLimit, errorHandler, hardenServer, notFound, requestRateLimit, securityHeaders } from './inputs/http-hardening.js';
import { attachSocketInputs, type PortraitServer } from './inputs/socket.js';
import { OscInput } from './inputs/osc.js';
import { buildAddressSpace } from './osc/address-space.js';
import { oscQueryRouter } from './osc/oscquery.js';
import { OscQueryListen } from './osc/listen.js';
import { MdnsAdvertiser } from './osc/mdns.js';
import { PresetStore } from './presets.js';
import { LiveRecorder } from './recording/recorder.js';
import { Modulator } from './modulation/modulator.js';
import { openLink } from './modulation/link.js';
import { streamMeters } from './modulation/meters.js';
import { AudioInput, audioSource } from './audio/input.js';
import { modulationProblem } from '../common/modulation-targets.js';
import { midiProblem } from '../common/parameters.js';
import { recordingRoutes } from './recording/routes.js';
import { logger } from './log.js';
import { dreamCatalogue } from './models/registry.js';
import { DreamLibrary } from './dream/library.js';
import { disposeChain, type ChainResult } from './pipeline/chain.js';
import { openFrameMaker } from './pipeline/frame-maker.js';
import { FrameLoop } from './pipeline/loop.js';
import { buildDeliverStages } from './stages/index.js';
import type { FrameJob } from './stages/stage.js';
import { OpeningHours } from './schedule.js';
import { Store, type Source } from './store.js';
import type { LiveState } from '../common/state.js';
import { SystemdNotifier } from './watchdog.js';
import { directionProblem, directionVectors, openVisitors } from './visitors.js';
import { Cluster, logSingleNode } from './cluster/cluster.js';
import { ClusterClock } from './wall/clock.js';
import { wallTiming } from './wall/timing.js';
import { redisAnchorStore } from './wall/anchor-sync.js';
import { EventLoopDelay } from './event-loop.js';

const log = logger('server');

export interface RunningServer {
  url: string;
  port: number;
  config: ResolvedConfig;
  store: Store;
  loop: FrameLoop;
  /** The OSC input (its bound `port`), or null when oscPort is 'off'. */
  osc: OscInput | null;
  presets: PresetStore;
  /** Live recording (docs/recording.md). */
  recorder: LiveRecorder;
  /** The modulation matrix (null in a cluster). */
  modulator: Modulator | null;
  /** Cluster mode (docs/cluster.md), or null for a single node (redisUrl ""). */
  cluster: Cluster | null;
  close(): Promise<void>;
}

export async function startServer(overrides: UserConfig = {}): Promise<RunningServer> {
  const config = resolveConfig(overrides);
  let osc: OscInput | null = null;
  let cluster: Cluster | null = null;
  // The frame's work (latent .. encode), in the frame worker unless config.frameWorker is off.
  const maker = await openFrameMaker(config, {
    onLoopWrap: (passes) => osc?.loopWrapped(passes),
    ...(config.redisUrl ? { wallAnchors: { claim: (mine) => (cluster ? redisAnchorStore(cluster.commander).claim(mine) : Promise.reject(new Error('the cluster is not connected yet'))) } } : {}),
  });
  const generator = maker.generator;
  // Style names for checking input; the networks themselves are compiled where frames are made.
  const library = new DreamLibrary(await dreamCatalogue(config, generator.manifest), config.provider);
  const directions = directionVectors(generator.manifest);
  const styleModel = { id: generator.id, style: generator.manifest.generator?.style };
  const guideFolders = { capturesDir: config.capturesDir, guidesDir: config.guidesDir };
  const store = new Store({
    validate: (state) => dreamProblem(state, library, guideFolders) ?? directionProblem(state, directions) ?? mixProblem(state.face, styleModel) ?? modulationProblem(state) ?? midiProblem(state),
  });
  // The modulation matrix writes into this node's state; a cluster's nodes would fight over it, so it runs on a single node only (docs/osc.md).
  const modulator = config.redisUrl ? null : new Modulator(store, { openLink });
  const audio = modulator ? openAudio(config.audio, modulator) : null;
  // Cluster mode replicates every committed change, so it hooks the store before anything commits.
  cluster = config.redisUrl ? new Cluster(config, store) : null;
  const displays = new DisplayHub();
  const presets = await PresetStore.open(config.presetsDir);
  if (modulator) presets.useSavingView((state) => modulator.unmodulated(state));
  cluster?.sharePresets(presets);
  const recorder = new LiveRecorder({ dir: config.recordingsDir, fps: config.fps, minFreeBytes: config.minFreeBytes });
  const oscSpace = buildAddressSpace();
  const deliver = buildDeliverStages({ displays, recorder });
  const stages = [...maker.stages, ...deliver];
  // Tablets, attract mode and captures (docs/tablet.md).
  const visitors = await openVisitors({ config, store, generator, dreamStyles: library.styles.map((s) => ({ name: s.name, ...(s.description ? { description: s.description } : {}) })), ...(cluster ? { turnGate: cluster.turn } : {}) });
  const startedAt = Date.now();
  // The main thread answers tablets, OSC and HTTP: how late it runs is in /health.
  const loopDelay = new EventLoopDelay();

  const app = express();
  app.disable('x-powered-by');
  const httpServer = createServer(app);
  hardenServer(httpServer);
  // Roles and limits (server/access.ts, docs/reliability.md).
  const policy = { adminToken: config.adminToken };
  const authFailures = new AuthFailures();
  const httpAccess = new HttpAccess(policy, authFailures);
  const requestLimit = requestRateLimit(config.httpRateLimit);
  // In a cluster, display pages served by the other nodes connect here when their node dies (CORS).
  const io: PortraitServer = new Server(httpServer, { path: SOCKET_PATH, maxHttpBufferSize: 64 * 1024, serveClient: false, ...(cluster ? { cors: cluster.cors } : {}) });
  cluster?.attach(io);

  // Outside opening hours the display fades to black and generation idles; inside, both come back.
  const hours = new OpeningHours(config.schedule, (open, initial) => {
    log.info({ open }, open ? 'opening hours: open' : 'opening hours: closed, fading to black');
    if (!(initial && open)) store.apply({ display: { blackout: open ? 0 : 1 } }, 'system');
  });
  hours.start();
  const heartbeats = new DisplayHeartbeats();
  let goodFrames = 0;
  let generatingSince: number | null = null;
  const generating = () => {
    // A recording keeps frames coming even while no display is connected.
    const on = (displays.count > 0 || recorder.active) && hours.open;
    generatingSince = on ? (generatingSince ?? Date.now()) : null;
    return on;
  };
  const onFrame = (job: FrameJob, result: ChainResult) => {
    if (!result.ok) return;
    goodFrames++;
    // A tile wall's frame is one screen's piece; a visitor's capture keeps the whole portrait.
    visitors.offer(job.tile ? { ...job, image: job.tile.whole } : job);
  };
  // Video walls: slots and presentation times on the cluster clock (docs/cluster.md).
  const clock = new ClusterClock(cluster ? { source: cluster.time } : {});
  await clock.start();
  const wall = wallTiming(config, clock, displays);
  const loop = new FrameLoop(stages, { fps: config.fps, snapshot: () => (modulator ? modulator.withBeat(store.snapshot()) : store.snapshot()), active: generating, onFrame, ...(wall ? { wall } : {}) });
  const status = () => {
    const controllers = io.of('/').adapter.rooms.get(ROOMS.controller)?.size ?? 0;
    const base: Status = {
      model: generator.id,
      provider: generator.provider,
      fps: Math.round(loop.fps * 10) / 10,
      displays: displays.count,
      controllers,
      frameSize: config.frameSize,
    };
    return {
      ...base,
      uptime: Math.round((Date.now() - startedAt) / 1000),
      frames: loop.frames,
      stageMs: loop.stageMs(),
      frameWorker: config.frameWorker,
      eventLoopMs: loopDelay.report(),
      ...(generator.fallback ? { fallback: generator.fallback } : {}),
      ...(wall ? { wall: { layout: config.wall.layout, screens: displays.screens(), stride: loop.wallStride, clock: clock.estimate } } : {}),
    };
  };

  const health = () => {
    const screens = heartbeats.report(config.heartbeatStaleSeconds * 1000);
    const verdict = assessHealth({
      displays: screens,
      fps: loop.fps,
      targetFps: config.fps,
      degradedFpsRatio: config.degradedFpsRatio,
      generatingForMs: generatingSince === null ? null : Date.now() - generatingSince,
    });
    return { ...verdict, open: hours.open, heartbeats: screens };
  };

  app.use(securityHeaders(cluster ? () => cluster.origins() : undefined), bodyLimit(undefined, { '/api/guides/': GUIDE_MAX_BYTES }), requestLimit.middleware);
  app.use(httpInputs(store, { status, health }, httpAccess, visitors.socket.floor));
  app.use(presetRoutes(presets, store, httpAccess));
  app.use(recordingRoutes(recorder, httpAccess));
  app.use(guideRoutes(config.guidesDir, httpAccess));
  app.use(oscQueryRouter(oscSpace, () => store.state, () => ({ oscPort: osc?.port ?? null, oscHost: config.oscHost })));
  app.use(visitors.router);
  if (cluster) app.use(cluster.router());
  servePages(app, config.pagesDir);
  app.use(notFound, errorHandler);
  const stopSocketInputs = attachSocketInputs(io, store, displays, presets, {
    policy,
    failures: authFailures,
    eventRate: config.socketEventRate,
    ...visitors.socket,
    wall: config.wall,
    clusterNow: () => clock.now(),
    ...(modulator ? { tap: (source: Source) => (modulator.tap(source), { ok: true as const, version: store.version }) } : {}),
  });
  const stopMeters = modulator ? streamMeters(io, modulator) : () => {};
  if (config.oscPort !== 'off') {
    osc = await OscInput.start(store, presets, { port: config.oscPort, host: config.oscHost, allow: config.oscAllow, feedback: config.oscFeedback, recorder, ...(modulator ? { modulator } : {}) }, oscSpace);
  }
  heartbeats.attach(io);
  // OSCQuery's LISTEN / PATH_CHANGED WebSocket, on the HTTP port beside socket.io (server/osc/listen.ts).
  const oscListen = new OscQueryListen(httpServer, oscSpace, store);

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(config.port, config.host, () => {
      httpServer.off('error', reject);
      resolve();
    });
  });
  const port = (httpServer.address() as AddressInfo).port;
  const mdns = config.mdns ? MdnsAdvertiser.start({ httpPort: port, oscPort: osc?.port ?? null }) : null;
  const shownHost = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  const url = `http://${shownHost}:${port}`;
  if (cluster) cluster.start(io, port);
  else logSingleNode();
  loop.start();
  modulator?.start();
  audio?.start();
  visitors.start(io, () => port);
  const systemd = SystemdNotifier.fromEnv();
  if (systemd) {
    void systemd.ready(`serving on port ${port}`);
    systemd.watch({
      frames: () => goodFrames,
      idle: () => !generating(),
      status: () => (hours.open ? `${displays.count} display(s), ${loop.fps.toFixed(1)} fps` : 'closed (outside opening hours)'),
    });
  }
  const statusTimer = setInterval(() => io.local.to(ROOMS.controller).emit('status', status()), 1000);

  log.info(
    { model: generator.id, file: generator.file, provider: generator.provider, fallback: generator.fallback, frames: maker.where, port, host: config.host, frameSize: config.frameSize, fps: config.fps },
    `serving model ${generator.id} on ${generator.provider}, frames made in the ${maker.where}; display ${url}/  controller ${url}/controller/  VJ ${url}/vj/`,
  );

  let closing: Promise<void> | null = null;
  const close = () => {
    closing ??= (async () => {
      clearInterval(statusTimer);
      modulator?.close();
      audio?.stop();
      loopDelay.stop();
      clock.stop();
      stopSocketInputs();
      stopMeters();
      visitors.stop();
      requestLimit.close();
      authFailures.close();
      hours.stop();
      systemd?.stop();
      await loop.stop();
      const results = await Promise.allSettled([
        recorder.close(),
        visitors.close(),
        new Promise<void>((resolve) => io.close(() => resolve())).then(() => cluster?.close()),
        osc?.close(),
        oscListen.close(),
        mdns?.close(),
        // The maker closes its own stages (the worker, or the main thread's making stages).
        Promise.allSettled([maker.close(), disposeChain(deliver), library.dispose()]),
      ]);
      httpServer.closeAllConnections?.();
      for (const r of results) if (r.status === 'rejected') log.warn({ err: String(r.reason) }, 'error while closing');
    })();
    return closing;
  };
  return { url, port, config, store, loop, osc, presets, recorder, cluster, modulator, close };
}

/** The audio input feeding the matrix's audio sources, or null when it is off. */
function openAudio(setting: string, modulator: Modulator): AudioInput | null {
  const source = audioSource(setting);
  if (source.kind === 'off') return null;
  const input = new AudioInput(source, (f, heardAt) => {
    modulator.feed('audio.level', f.level);
    modulator.feed('audio.low', f.low);
    modulator.feed('audio.mid', f.mid);
    modulator.feed('audio.high', f.high);
    // When the hit was heard, for the beat tracker (tempoFrom 'audio').
    modulator.feed('audio.onset', f.onset, heardAt);
  });
  log.info({ audio: input.describe() }, 'audio input for the modulation matrix');
  return input;
}

/** Dream settings the schema cannot check: the style must exist, dreaming needs a network, and guided mode its guide picture. */
function dreamProblem(state: Readonly<LiveState>, library: DreamLibrary, guides: GuideFolders): string | null {
  const { mode, style } = state.dream;
  if (mode !== 'off' && !library.catalogue) return 'dreaming is unavailable: no dream network is installed';
  const guide = mode === 'guided' ? guideProblem(state.dream, guides) : null;
  if (guide) return `dream.mode guided: ${guide}`;
  const problem = library.catalogue ? library.problem(style) : null;
  return problem ? `dream.style: ${problem}` : null;
}

function servePages(app: express.Express, dir: string): void {
  const display = join(dir, 'display', 'index.html');
  const controller = join(dir, 'controller', 'index.html');
  if (!existsSync(display) || !existsSync(controller)) {
    log.warn({ dir }, 'pages are not built; run `npm run build`');
    app.get(['/', '/controller', '/controller/'], (_req, res) => {
      res.status(503).type('text/plain').send('The pages are not built yet. Run `npm run build` (npm start does it for you).');
    });
    return;
  }
  app.get('/', (_req, res) => res.sendFile(display));
  // Express 5 ignores a trailing slash when matching strings, so match the bare path exactly.
  app.get(/^\/controller$/, (_req, res) => res.redirect(301, '/controller/'));
  app.get('/controller/', (_req, res) => res.sendFile(controller));
  const vj = join(dir, 'vj', 'index.html');
  app.get(/^\/vj$/, (_req, res) => res.redirect(301, '/vj/'));
  // The page is public like the others; what it shows comes over the admin socket only.
  app.get('/vj/', (_req, res) => (existsSync(vj) ? res.sendFile(vj) : res.status(503).type('text/plain').send('The VJ page is not built. Run `npm run build`.')));
  app.use(express.static(dir, { index: false, maxAge: '1h' }));
}
