/**
 * Lockstep on a video wall: how far apart two screens on different nodes change to the
 * same frame. Two nodes (server/main.ts in child processes, the same wall configuration)
 * and two displays, one per node. The displays are socket.io clients in this process
 * that use the display page's own modules: display/sync.ts (the clock estimate over
 * socket.io) and display/present.ts (presentation by meta.presentAt), with a 60 Hz
 * "refresh" per display at a random phase, as two real screens would have, and each
 * frame decoded (sharp) before it is offered, as the page decodes before presenting. Not
 * headless Chromium: two software-rendered pages on a shared 2-core machine would
 * measure the CPU contention, not the lockstep.
 *
 * Both displays run in this one process, so their presentation moments are read on one
 * true clock (performance.now()): the skew per slot is the difference of those moments.
 * Each display's own estimate of cluster time at presentation is printed too, with the
 * offset estimates and their round trips.
 *
 *   npx tsx bench/wall-skew.bench.ts [--seconds 20] [--fps 30] [--size 128] [--layout tile|mirror|gallery]
 *                                    [--delay 150] [--upscaler off|esrgan-slim] [--redis auto|on|off]
 *
 * --redis (auto: when /usr/bin/redis-server exists) starts a private redis-server
 * (test/support/redis.ts) and runs the nodes in cluster mode (--redis-url), so state, walk
 * anchors and the cluster clock go through Redis.
 * A figure, not a test: no thresholds.
 */
import { existsSync } from 'node:fs';
import sharp from 'sharp';
import { io, type Socket } from 'socket.io-client';
import type { FrameMeta } from '../common/frame.js';
import { SOCKET_PATH, type ClientToServerEvents, type ServerToClientEvents } from '../common/protocol.js';
import { Presenter } from '../display/present.js';
import { ClusterClockSync } from '../display/sync.js';
import { header, idleCheck } from './support/machine.js';
import { benchOptions, SERVER_OPTIONS } from './support/options.js';
import { spawnServer, type ServerProcess } from './support/server-process.js';
import { fixed, percentile, table } from './support/stats.js';

const TITLE = 'wall lockstep: presentation skew between two displays on two nodes';
const { values, command } = benchOptions(import.meta.url, TITLE, {
  seconds: { default: 20, help: 'measured seconds' },
  fps: SERVER_OPTIONS.fps,
  size: { default: 128, help: 'frame size, px' },
  layout: { default: 'tile', help: 'wall layout (tile, mirror, gallery)' },
  delay: { default: 150, help: 'the wall\'s presentDelayMs' },
  upscaler: { default: 'off', help: 'the nodes\' upscaler (off, esrgan-slim)' },
  redis: { default: 'auto', help: 'run the nodes as a Redis cluster (auto: when redis-server is installed, on, off)' },
});
const { seconds, fps } = values;
const REFRESH_MS = 1000 / 60;
const FRAME_MS_30 = 1000 / 30;
const WALL = {
  layout: values.layout,
  columns: 2,
  rows: 1,
  presentDelayMs: values.delay,
  screens: [
    { name: 'left', column: 0, row: 0 },
    { name: 'right', column: 1, row: 0 },
  ],
};

console.log(header(TITLE, command));
console.log(await idleCheck());

type Client = Socket<ServerToClientEvents, ClientToServerEvents>;

interface Presented {
  /** performance.now() in this process at the refresh that showed it (the true clock for both displays). */
  at: number;
  /** The display's own estimate of cluster time then. */
  cluster: number | null;
  presentAt: number;
}

interface BenchScreen {
  name: string;
  socket: Client;
  sync: ClusterClockSync;
  presented: Map<number, Presented>;
  late: number;
  stop(): void;
}

/** A display of `screen` on `url` that presents like the page: decode, hold until presentAt, show at a refresh. */
async function openScreen(url: string, name: string): Promise<BenchScreen> {
  const socket: Client = io(url, { path: SOCKET_PATH, auth: { role: 'display', screen: name }, transports: ['websocket'], reconnection: false, forceNew: true });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  const sync = new ClusterClockSync(socket);
  // This display's refresh: 60 Hz at its own random phase.
  const phase = Math.random() * REFRESH_MS;
  const timers = new Set<NodeJS.Timeout>();
  const requestFrame = (callback: (now: number) => void) => {
    const now = performance.now();
    const next = phase + Math.ceil((now - phase + 0.01) / REFRESH_MS) * REFRESH_MS;
    const timer = setTimeout(() => {
      timers.delete(timer);
      callback(next);
    }, next - now);
    timers.add(timer);
  };
  const screen: BenchScreen = {
    name,
    socket,
    sync,
    presented: new Map(),
    late: 0,
    stop() {
      sync.stop();
      for (const t of timers) clearTimeout(t);
      socket.disconnect();
    },
  };
  const presenter = new Presenter<null>({
    clusterNow: (now) => sync.clusterAt(now),
    requestFrame,
    release: () => {},
    show(meta: FrameMeta, _item, now) {
      const cluster = sync.clusterAt(now);
      if (meta.slot === undefined || meta.presentAt === undefined) return;
      if (cluster !== null && cluster > meta.presentAt + REFRESH_MS) screen.late++;
      screen.presented.set(meta.slot, { at: now, cluster, presentAt: meta.presentAt });
    },
  });
  socket.on('frame', (meta, image, ack) => {
    sharp(Buffer.from(image as Uint8Array))
      .raw()
      .toBuffer()
      .then(
        () => presenter.offer(meta, null, performance.now()),
        () => {},
      )
      .finally(() => ack());
  });
  return screen;
}

const nodes: ServerProcess[] = [];
let redis: { url: string; dispose(): Promise<void> } | null = null;
const screens: BenchScreen[] = [];
try {
  if (!['auto', 'on', 'off'].includes(values.redis)) throw new Error(`--redis must be auto, on or off, not ${values.redis}`);
  if (values.redis !== 'off') {
    const { REDIS_SERVER_PATH, startRedis } = await import('../test/support/redis.js');
    if (existsSync(REDIS_SERVER_PATH)) redis = await startRedis(REDIS_SERVER_PATH);
    else if (values.redis === 'on') throw new Error(`--redis on needs ${REDIS_SERVER_PATH} (apt-get install -y redis-server)`);
    else console.log(`no ${REDIS_SERVER_PATH}: running the nodes without Redis`);
  }
  const flags = { wall: JSON.stringify(WALL), 'frame-size': values.size, fps, upscaler: values.upscaler, 'attract-idle-seconds': 0, ...(redis ? { 'redis-url': redis.url } : {}) };
  process.stdout.write('starting two nodes ');
  nodes.push(...(await Promise.all([spawnServer(flags), spawnServer(flags)])));
  console.log(`${nodes.map((n) => n.url).join(', ')}`);
  screens.push(await openScreen(nodes[0]!.url, 'left'), await openScreen(nodes[1]!.url, 'right'));
  // Warm-up: clock estimates taken, frames flowing.
  await new Promise((r) => setTimeout(r, 3000));
  for (const s of screens) s.presented.clear();
  process.stdout.write(`measuring ${seconds} s `);
  for (let i = 0; i < seconds; i++) {
    await new Promise((r) => setTimeout(r, 1000));
    process.stdout.write('.');
  }
  console.log(' done\n');

  const [left, right] = screens as [BenchScreen, BenchScreen];
  const skews: number[] = [];
  const estimatedSkews: number[] = [];
  let onlyOne = 0;
  for (const [slot, l] of left.presented) {
    const r = right.presented.get(slot);
    if (!r) {
      onlyOne++;
      continue;
    }
    skews.push(Math.abs(l.at - r.at));
    if (l.cluster !== null && r.cluster !== null) estimatedSkews.push(Math.abs(l.cluster - r.cluster));
  }
  onlyOne += [...right.presented.keys()].filter((slot) => !left.presented.has(slot)).length;
  const row = (what: string, v: number[]) => [what, String(v.length), fixed(percentile(v, 50)), fixed(percentile(v, 95)), fixed(Math.max(...v)), fixed(percentile(v, 95) / FRAME_MS_30, 2), fixed(Math.max(...v) / FRAME_MS_30, 2)];
  console.log(`layout ${values.layout}, ${fps} fps, ${values.size} px, present delay ${values.delay} ms, ${redis ? 'Redis cluster' : 'no Redis (nodes on one machine clock)'}`);
  console.log(
    table(
      ['skew between the two displays', 'slots', 'p50 ms', 'p95 ms', 'max ms', 'p95 frames@30', 'max frames@30'],
      [row('true (one clock in this process)', skews), row("by the displays' own cluster-time estimates", estimatedSkews)],
    ),
  );
  console.log(`slots shown by one display only: ${onlyOne}; frames presented more than one refresh after presentAt: left ${left.late}, right ${right.late}`);
  console.log(
    table(
      ['display', 'node', 'clock offset ms (cluster - local)', 'its round trip ms', 'slots presented'],
      screens.map((s, i) => [s.name, nodes[i]!.url, fixed(s.sync.sample?.offset ?? NaN, 2), fixed(s.sync.sample?.rtt ?? NaN, 2), String(s.presented.size)]),
    ),
  );
  const [lo, ro] = screens.map((s) => s.sync.sample?.offset ?? NaN) as [number, number];
  console.log(`the two displays share this process's clock, so their offset estimates should agree: they differ by ${fixed(Math.abs(lo - ro), 2)} ms`);
  for (const [i, n] of nodes.entries()) {
    const status = (await (await fetch(`${n.url}/health`)).json().catch(() => null)) as { fps?: number; wall?: { stride?: number; clock?: { offsetMs: number; rttMs: number | null; reference: boolean } } } | null;
    const clock = status?.wall?.clock;
    console.log(`node ${i + 1}: ${fixed(status?.fps ?? NaN)} fps, rendering every ${status?.wall?.stride ?? '?'} slot(s); cluster clock ${clock ? `${clock.reference ? 'against Redis TIME' : 'local (no reference)'}, offset ${fixed(clock.offsetMs, 2)} ms, round trip ${fixed(clock.rttMs ?? NaN, 2)} ms` : 'n/a'}`);
  }
} finally {
  for (const s of screens) s.stop();
  await Promise.all(nodes.map((n) => n.stop()));
  await redis?.dispose();
}
