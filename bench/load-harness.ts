/**
 * The load and soak benches' shared run: the real server in its own process (with an admin
 * token set, so the tablets are visitors, as in the gallery), one display acknowledging
 * every frame, a probe tablet in this process timing its inputs (to the acknowledgement,
 * and to the first frame that shows them), and the crowd of tablets in a child process
 * (bench/load-tablets.ts). First an idle phase (display only), then the load phase.
 * Server memory (RSS from /proc) and the display's frame rate are sampled throughout.
 */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { openController, openDisplay, processUsage, spawnServer } from './support/server-process.js';
import { mean, percentile } from './support/stats.js';
import type { TabletsResult } from './load-tablets.js';

export interface LoadOptions {
  tablets: number;
  /** Inputs per second per tablet. */
  rate: number;
  warmupSeconds: number;
  idleSeconds: number;
  loadSeconds: number;
  /** Length of one frame-rate window, and how often progress is printed. */
  windowSeconds: number;
  fps: number;
  size: number;
  model: string;
}

export interface Window {
  /** Seconds since the load started. */
  at: number;
  fps: number;
  rssMiB: number;
}

export interface LoadResult {
  idleFps: number;
  idleRssMiB: number;
  loadFps: number;
  windows: Window[];
  probe: { inputs: number; ackP50: number; ackP95: number; ackP99: number; frameP50: number; frameP95: number; frameMisses: number };
  idleProbe: { ackP95: number; frameP95: number };
  tablets: TabletsResult;
  serverCpuPercent: number;
  health: { fps: number; frames: number };
}

const MiB = 2 ** 20;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A probe tablet: `rate` walk-speed inputs a second, each timed to its acknowledgement and to the first frame that reflects it. */
function probe(controller: Awaited<ReturnType<typeof openController>>, display: Awaited<ReturnType<typeof openDisplay>>, rate: number) {
  const ack: number[] = [];
  const frame: number[] = [];
  let misses = 0;
  let inputs = 0;
  const pending: Promise<void>[] = [];
  const timer = setInterval(() => {
    inputs += 1;
    const t0 = performance.now();
    // An input unanswered after 10 s counts as 10 s (and is not waited for longer).
    const answered = Promise.race([controller.patch({ walk: { speed: Math.round(Math.random() * 100) / 100 } }), sleep(10_000).then(() => null)]);
    pending.push(
      answered.then(async (result) => {
        ack.push(performance.now() - t0);
        if (!result?.ok) return;
        try {
          const arrival = await display.firstReflecting(result.version, t0, 5000);
          frame.push(arrival.at - t0);
        } catch {
          misses += 1;
        }
      }),
    );
  }, 1000 / rate);
  return {
    async stop() {
      clearInterval(timer);
      await Promise.all(pending);
      return { inputs, ack, frame, misses };
    },
  };
}

function framesBetween(arrivals: readonly { at: number }[], from: number, to: number): number {
  let n = 0;
  for (const a of arrivals) if (a.at >= from && a.at < to) n += 1;
  return n;
}

export async function runLoad(opts: LoadOptions, progress: (line: string) => void): Promise<LoadResult> {
  process.env.PORTRAITS_ADMIN_TOKEN ??= randomBytes(16).toString('hex');
  const server = await spawnServer({ fps: opts.fps, 'frame-size': opts.size, model: opts.model });
  try {
    const display = await openDisplay(server.url);
    const controller = await openController(server.url);
    progress(`server ${server.url} (pid ${server.pid}); warming up ${opts.warmupSeconds} s`);
    await sleep(opts.warmupSeconds * 1000);

    // Idle: the display alone, plus the probe (one tablet is not load).
    const idleStart = performance.now();
    const idleRss: number[] = [];
    const idleProbe = probe(controller, display, opts.rate);
    for (let t = 0; t < opts.idleSeconds; t += 1) {
      await sleep(1000);
      idleRss.push(processUsage(server.pid).rssBytes);
    }
    const idleEnd = performance.now();
    const idleProbeResult = await idleProbe.stop();
    const idleFps = framesBetween(display.arrivals, idleStart, idleEnd) / ((idleEnd - idleStart) / 1000);
    progress(`idle: display ${idleFps.toFixed(1)} fps, server RSS ${(mean(idleRss) / MiB).toFixed(1)} MiB`);

    // Load: the crowd connects first, then everyone starts at once.
    const child = fork(fileURLToPath(new URL('./load-tablets.ts', import.meta.url)), [server.url, String(opts.tablets), String(opts.rate), String(opts.loadSeconds)], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const message = (type: string) =>
      new Promise<{ type: string; result?: TabletsResult }>((resolve, reject) => {
        const onMessage = (m: { type: string; result?: TabletsResult }) => {
          if (m.type !== type) return;
          child.off('message', onMessage);
          resolve(m);
        };
        child.on('message', onMessage);
        child.once('exit', (code) => reject(new Error(`tablets process exited (${code}) before '${type}'`)));
      });
    await message('ready');
    progress(`${opts.tablets} tablets connected; ${opts.rate} inputs/s each for ${opts.loadSeconds} s`);
    const resultPromise = message('result');
    child.send('start');
    const cpu0 = processUsage(server.pid).cpuSeconds;
    const loadStart = performance.now();
    const loadProbe = probe(controller, display, opts.rate);
    const windows: Window[] = [];
    for (let w = 1; w * opts.windowSeconds <= opts.loadSeconds; w++) {
      const from = performance.now();
      await sleep(opts.windowSeconds * 1000);
      const to = performance.now();
      const rssMiB = processUsage(server.pid).rssBytes / MiB;
      const fps = framesBetween(display.arrivals, from, to) / ((to - from) / 1000);
      windows.push({ at: Math.round((to - loadStart) / 1000), fps, rssMiB });
      progress(`load ${windows.at(-1)!.at} s: display ${fps.toFixed(1)} fps, server RSS ${rssMiB.toFixed(1)} MiB`);
    }
    const loadEnd = performance.now();
    const cpuSeconds = processUsage(server.pid).cpuSeconds - cpu0;
    const probeResult = await loadProbe.stop();
    const tablets = (await resultPromise).result!;
    const health = await server.health();
    display.close();
    controller.close();
    return {
      idleFps,
      idleRssMiB: mean(idleRss) / MiB,
      loadFps: framesBetween(display.arrivals, loadStart, loadEnd) / ((loadEnd - loadStart) / 1000),
      windows,
      probe: {
        inputs: probeResult.inputs,
        ackP50: percentile(probeResult.ack, 50),
        ackP95: percentile(probeResult.ack, 95),
        ackP99: percentile(probeResult.ack, 99),
        frameP50: percentile(probeResult.frame, 50),
        frameP95: percentile(probeResult.frame, 95),
        frameMisses: probeResult.misses,
      },
      idleProbe: { ackP95: percentile(idleProbeResult.ack, 95), frameP95: percentile(idleProbeResult.frame, 95) },
      tablets,
      serverCpuPercent: (100 * cpuSeconds) / ((loadEnd - loadStart) / 1000),
      health: { fps: health.fps, frames: health.frames },
    };
  } finally {
    await server.stop();
  }
}

/** Relative growth between the mean of the first and of the last `share` of a series. */
export function growth(series: readonly number[], share = 0.2): number {
  const n = Math.max(1, Math.floor(series.length * share));
  const first = mean(series.slice(0, n));
  const last = mean(series.slice(-n));
  return (last - first) / first;
}
