/**
 * Does the server stay quick to answer while it makes heavy frames? With frames made on the
 * main thread ('main', config frameWorker false: the design before the frame worker) and in
 * the frame worker ('worker', the default), each on the same stand-in generator of the cost
 * the imagery work's models reach (bench/support/stand-in-generator.ts), generating at full
 * rate for one display:
 *
 * - event-loop delay of the server's main thread (perf_hooks.monitorEventLoopDelay, read from
 *   the server's /health, which reports it over 10 s windows; the worst window counts);
 * - tablet ack: a controller's socket 'patch' -> its acknowledgement;
 * - OSC round trip: an OSC query (an address without arguments) -> the server's reply.
 *
 *   npx tsx bench/responsiveness.bench.ts [--threads main,worker] [--gflop 6] [--seconds 30]
 *
 * Targets (issue 17): event-loop p99 at most 10 ms and tablet ack p95 at most 20 ms, with the
 * worker. A figure, not a test: no thresholds are asserted.
 */
import dgram from 'node:dgram';
import { setTimeout as sleep } from 'node:timers/promises';
import { header, idleCheck } from './support/machine.js';
import { benchOptions, SERVER_OPTIONS } from './support/options.js';
import { openController, openDisplay, spawnServer, type ServerProcess } from './support/server-process.js';
import { STAND_IN_ID, writeStandInGenerator } from './support/stand-in-generator.js';
import { fixed, percentile, table } from './support/stats.js';
import { decodePacket, encodeMessage } from '../server/osc/codec.js';
import { splitmix32 } from '../common/random.js';
import type { LoopDelay } from '../server/event-loop.js';

const TITLE = 'responsiveness while generating: event-loop delay, tablet ack and OSC round trip, frames on the main thread vs in the frame worker';
const { values, command } = benchOptions(import.meta.url, TITLE, {
  threads: { default: ['main', 'worker'], help: "where frames are made, one scenario each: 'main' (frameWorker false) or 'worker'" },
  gflop: { default: 6, help: "the stand-in generator's cost per image, GFLOP (issue 16's 128 px generator and face stage: about 6)" },
  resolution: { default: 128, help: "the stand-in generator's output size, px" },
  seconds: { default: 30, help: 'measured seconds per scenario (the event-loop figure comes in 10 s windows)' },
  warmup: { default: 12, help: 'warm-up seconds per scenario (at least one 10 s window, so the first measured one is clean)' },
  osc: { default: 47_000 + (process.pid % 1000), help: 'UDP port for the server\'s OSC input' },
  fps: SERVER_OPTIONS.fps,
  size: SERVER_OPTIONS.size,
});
const SPACING_MS = [80, 200] as const;
const ANSWER_TIMEOUT_MS = 2000;
const WINDOW_MS = 10_000;
const OSC_QUERY = '/portraits/walk/speed';

console.log(header(TITLE, command));
console.log(await idleCheck());
const standIn = await writeStandInGenerator(values.gflop, values.resolution);
console.log(`stand-in generator: ${standIn.gflop} GFLOP per ${values.resolution} px image (${standIn.layers} conv layers of 32 channels); ${values.size} px frames, target ${values.fps} fps, upscaler off, dream off\n`);

interface Result {
  threads: string;
  fps: number;
  generateMs: number;
  loop: LoopDelay[];
  ack: number[];
  osc: number[];
  lost: number;
}

const results: Result[] = [];
for (const threads of values.threads) {
  if (threads !== 'main' && threads !== 'worker') throw new Error(`--threads takes main and/or worker, not '${threads}'`);
  process.stdout.write(`running: frames on the ${threads === 'main' ? 'main thread' : 'frame worker'} `);
  results.push(await measure(threads));
  console.log(' done');
}

async function measure(threads: 'main' | 'worker'): Promise<Result> {
  const server = await spawnServer({
    'models-dir': standIn.modelsDir,
    model: STAND_IN_ID,
    fps: values.fps,
    'frame-size': values.size,
    upscaler: 'off',
    'frame-worker': String(threads === 'worker'),
    'osc-port': values.osc,
    'osc-host': '127.0.0.1',
  });
  const controller = await openController(server.url);
  const display = await openDisplay(server.url);
  const osc = await oscClient(values.osc);
  const random = splitmix32(17);
  const result: Result = { threads, fps: 0, generateMs: 0, loop: [], ack: [], osc: [], lost: 0 };
  try {
    await sleep(values.warmup * 1000);
    const end = performance.now() + values.seconds * 1000;
    const windows = readWindows(server, end, result.loop);
    let i = 0;
    while (performance.now() < end) {
      await sleep(SPACING_MS[0] + random() * (SPACING_MS[1] - SPACING_MS[0]));
      const t0 = performance.now();
      const ack = await withTimeout(controller.patch({ walk: { speed: 0.2 + (i++ % 10) * 0.01 } }));
      if (ack === null) result.lost++;
      else if (!ack.ok) throw new Error(`patch refused: ${ack.error}`);
      else result.ack.push(performance.now() - t0);
      const t1 = performance.now();
      if (await osc.query(OSC_QUERY)) result.osc.push(performance.now() - t1);
      else result.lost++;
      if (i % 20 === 0) process.stdout.write('.');
    }
    await windows;
    const health = await server.health();
    result.fps = health.fps;
    result.generateMs = health.stageMs.generate ?? 0;
    if (display.arrivals.length === 0) throw new Error('no frame reached the display');
    return result;
  } finally {
    osc.close();
    display.close();
    controller.close();
    await server.stop();
  }
}

/** Reads the server's event-loop window each time one closes, until `end`. */
async function readWindows(server: ServerProcess, end: number, into: LoopDelay[]): Promise<void> {
  while (performance.now() + WINDOW_MS <= end + 500) {
    await sleep(WINDOW_MS);
    const h = (await server.health()) as unknown as { eventLoopMs: LoopDelay };
    into.push(h.eventLoopMs);
  }
}

function withTimeout<T>(p: Promise<T>): Promise<T | null> {
  return Promise.race([p, sleep(ANSWER_TIMEOUT_MS).then(() => null)]);
}

/** A UDP socket that sends OSC queries to the server and waits for the reply to each. */
async function oscClient(port: number) {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  let waiting: ((address: string) => void) | null = null;
  socket.on('message', (packet) => {
    const decoded = decodePacket(packet);
    if ('address' in decoded) waiting?.(decoded.address);
  });
  return {
    async query(address: string): Promise<boolean> {
      const answered = new Promise<boolean>((resolve) => {
        waiting = (a) => a === address && resolve(true);
      });
      socket.send(encodeMessage(address), port, '127.0.0.1');
      return (await withTimeout(answered)) ?? false;
    },
    close: () => socket.close(),
  };
}

const worst = (w: LoopDelay[], key: 'p99' | 'max') => Math.max(...w.map((x) => x[key]));
console.log('\nms; event loop: the worst of the 10 s windows measured (p50 is their median)');
console.log(
  table(
    ['frames made on', 'fps', 'generate', 'event loop p50', 'event loop p99', 'event loop max', 'tablet ack p50/p95', 'OSC round trip p50/p95', 'unanswered'],
    results.map((r) => [
      r.threads === 'main' ? 'main thread' : 'frame worker',
      fixed(r.fps),
      fixed(r.generateMs),
      fixed(percentile(r.loop.map((w) => w.p50), 50)),
      fixed(worst(r.loop, 'p99')),
      fixed(worst(r.loop, 'max')),
      `${fixed(percentile(r.ack, 50))}/${fixed(percentile(r.ack, 95))}`,
      `${fixed(percentile(r.osc, 50))}/${fixed(percentile(r.osc, 95))}`,
      String(r.lost),
    ]),
  ),
);
console.log("generate: the server's smoothed generate-stage time (in the worker it runs beside the main thread; its wait is the 'worker' stage).");
process.exit(results.every((r) => r.lost === 0) ? 0 : 1);
