/**
 * End to end: sustained frame rate at default settings with 1 and with 4 displays, with
 * dreaming off and with the gentle dream pass on; milliseconds per stage; the server's CPU
 * use and memory (RSS) over the run. The real server runs in a child process
 * (server/main.ts, what `npm start` runs) so /proc tells its CPU and memory apart from
 * the bench's socket.io displays, which acknowledge each frame on arrival.
 *
 *   npx tsx bench/frame-path.bench.ts [--seconds 20] [--displays 1,4] [--dream off,gentle]
 *                                     [--fps 30] [--size 256] [--model default-face] [--upscale auto|off|x2|x4]
 *
 * A figure, not a test: no thresholds.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { header, idleCheck, machineTicks } from './support/machine.js';
import { benchOptions, SCENARIO_OPTIONS } from './support/options.js';
import { applyScenario, openController, openDisplay, processUsage, RssSampler, spawnServer, waitForDream, type BenchDisplay } from './support/server-process.js';
import { fixed, mean, percentile, table } from './support/stats.js';

const TITLE = 'frame path bench: sustained fps, ms per stage, CPU and RSS of the server process';
const { values, command } = benchOptions(import.meta.url, TITLE, {
  seconds: { default: 20, help: 'measured seconds per scenario' },
  displays: { default: [1, 4], help: 'display counts, one scenario each' },
  ...SCENARIO_OPTIONS,
});
const { seconds, warmup } = values;
const displayCounts = values.displays;
const dreamModes = values.dream as ('off' | 'gentle' | 'zoom')[];
const MiB = 2 ** 20;

console.log(header(TITLE, command));
console.log(await idleCheck());
console.log(`settings: target ${values.fps} fps, ${values.size}x${values.size} JPEG frames, model ${values.model}, ${warmup} s warm-up then ${seconds} s measured per scenario`);
console.log('displays: socket.io clients in the bench process that acknowledge each frame on arrival (no decoding)\n');

interface Row {
  scenario: string;
  generated: number;
  received: number[];
  stages: Map<string, number[]>;
  age: number[];
  gaps: number[];
  skipped: number;
  serverCpu: number;
  benchCpu: number;
  machineCpu: number;
  rss: number[];
  threads: number;
  sendMs: number | undefined;
  jpegKiB: number;
  /** How often each upscale plan ran, e.g. "x2 97 %, off 3 %". */
  upscalePlans: string;
}

const rows: Row[] = [];
for (const dream of dreamModes) {
  for (const count of displayCounts) {
    const scenario = `dream ${dream}, ${count} display${count > 1 ? 's' : ''}`;
    process.stdout.write(`running: ${scenario} ... `);
    try {
      rows.push(await runScenario(scenario, dream, count));
      const r = rows[rows.length - 1]!;
      console.log(`${fixed(r.generated)} fps generated`);
    } catch (err) {
      console.log(`FAILED: ${(err as Error).message}`);
    }
  }
}

async function runScenario(scenario: string, dream: string, displayCount: number): Promise<Row> {
  const server = await spawnServer({ fps: values.fps, 'frame-size': values.size, model: values.model });
  const displays: BenchDisplay[] = [];
  const controller = await openController(server.url);
  try {
    await applyScenario(controller, { upscale: values.upscale, dream });
    for (let i = 0; i < displayCount; i++) displays.push(await openDisplay(server.url));
    if (dream !== 'off') await waitForDream(displays[0]!);
    await sleep(warmup * 1000);

    const h0 = await server.health();
    const u0 = processUsage(server.pid);
    const b0 = process.cpuUsage();
    const m0 = machineTicks();
    const counts0 = displays.map((d) => d.arrivals.length);
    const rss = new RssSampler(server.pid);
    const t0 = performance.now();
    await sleep(seconds * 1000);
    const elapsed = (performance.now() - t0) / 1000;
    const rssSamples = rss.stop();
    const u1 = processUsage(server.pid);
    const b1 = process.cpuUsage(b0);
    const m1 = machineTicks();
    const h1 = await server.health();

    const window = displays[0]!.arrivals.slice(counts0[0]!);
    const stages = new Map<string, number[]>();
    for (const a of window) for (const [k, v] of Object.entries(a.meta.timings)) (stages.get(k) ?? stages.set(k, []).get(k)!).push(v);
    const gaps = window.slice(1).map((a, i) => a.at - window[i]!.at);
    const skipped = window.slice(1).reduce((s, a, i) => s + (a.meta.frame - window[i]!.meta.frame - 1), 0);
    return {
      scenario,
      generated: (h1.frames - h0.frames) / elapsed,
      received: displays.map((d, i) => (d.arrivals.length - counts0[i]!) / elapsed),
      stages,
      age: window.map((a) => a.wall - a.meta.serverTime),
      gaps,
      skipped,
      serverCpu: (100 * (u1.cpuSeconds - u0.cpuSeconds)) / elapsed,
      benchCpu: (100 * (b1.user + b1.system)) / 1e6 / elapsed,
      machineCpu: (100 * (m1.busy - m0.busy)) / Math.max(1, m1.total - m0.total),
      rss: rssSamples,
      threads: u1.threads,
      sendMs: h1.stageMs.send,
      jpegKiB: mean(window.map((a) => a.bytes)) / 1024,
      upscalePlans: countBy(window.map((a) => a.meta.upscale ?? 'no stage')),
    };
  } finally {
    for (const d of displays) d.close();
    controller.close();
    await server.stop();
  }
}

/** "x2 95 %, off 5 %": how often each value occurs. */
function countBy(values: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1]).map(([v, n]) => `${v} ${fixed((100 * n) / Math.max(1, values.length), 0)} %`).join(', ');
}

if (rows.length) {
  console.log('\nframe rate (frames/s over the measured window)');
  console.log(
    table(
      ['scenario', 'generated', 'received/display (min..max)', 'interval p95 ms', 'skipped', 'frame age p50/p95 ms', 'JPEG KiB'],
      rows.map((r) => [
        r.scenario,
        fixed(r.generated),
        `${fixed(Math.min(...r.received))}..${fixed(Math.max(...r.received))}`,
        fixed(percentile(r.gaps, 95)),
        String(r.skipped),
        `${fixed(percentile(r.age, 50))}/${fixed(percentile(r.age, 95))}`,
        fixed(r.jpegKiB),
      ]),
    ),
  );
  const stageNames = [...new Set(rows.flatMap((r) => [...r.stages.keys()]))].filter((s) => s !== 'send');
  console.log('\nms per stage, mean (p95), from each frame\'s metadata at display 1; send from /health (smoothed)');
  console.log(
    table(
      ['scenario', ...stageNames, 'send', 'sum of means'],
      rows.map((r) => {
        const means = stageNames.map((s) => mean(r.stages.get(s) ?? []));
        return [
          r.scenario,
          ...stageNames.map((s, i) => (r.stages.has(s) ? `${fixed(means[i]!, 2)} (${fixed(percentile(r.stages.get(s)!, 95), 1)})` : '-')),
          r.sendMs === undefined ? '-' : fixed(r.sendMs, 2),
          fixed(means.filter(Number.isFinite).reduce((a, b) => a + b, 0) + (r.sendMs ?? 0), 2),
        ];
      }),
    ),
  );
  if (!stageNames.includes('upscale')) console.log('(no upscale stage is in the chain)');
  else for (const r of rows) console.log(`upscale passes per frame (what upscale.mode chose), ${r.scenario}: ${r.upscalePlans}`);
  console.log('\nCPU (% of one core; the machine has several) and server memory over the run');
  console.log(
    table(
      ['scenario', 'server CPU %', 'bench clients CPU %', 'whole machine %', 'server threads', 'RSS MiB start/mean/max/end'],
      rows.map((r) => [
        r.scenario,
        fixed(r.serverCpu, 0),
        fixed(r.benchCpu, 0),
        fixed(r.machineCpu, 0),
        String(r.threads),
        [r.rss[0]!, mean(r.rss), Math.max(...r.rss), r.rss[r.rss.length - 1]!].map((b) => fixed(b / MiB, 0)).join('/'),
      ]),
    ),
  );
}
console.log('\nframe age: display arrival minus the moment the frame\'s latent was chosen (all stages + transport).');
process.exit(rows.length === displayCounts.length * dreamModes.length ? 0 : 1);
