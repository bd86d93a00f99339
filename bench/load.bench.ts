/**
 * Load: 200 visitor tablets at 30 inputs a second each for 60 s against the real server
 * on loopback, with one display drawing. Targets (issue 10): the display's frame rate
 * stays at >= 90 % of the idle figure, input latency p95 <= 150 ms (a probe tablet,
 * to the acknowledgement), and no memory growth over the run. Also reported: latency to
 * the first frame that shows an input, the crowd's own acknowledgement times, refusals.
 *
 *   npx tsx bench/load.bench.ts [--tablets 200] [--rate 30] [--seconds 60] [--idle 20]
 *                               [--fps 30] [--size 256] [--model default-face]
 *
 * Exit code 1 when a target is missed. Run it on a quiet machine: it measures the machine too.
 */
import { header, idleCheck } from './support/machine.js';
import { benchOptions, CROWD_OPTIONS } from './support/options.js';
import { fixed } from './support/stats.js';
import { growth, runLoad } from './load-harness.js';

const TITLE = 'load bench: tablets vs. display frame rate, input latency, server memory';
const { values, command } = benchOptions(import.meta.url, TITLE, {
  ...CROWD_OPTIONS,
  seconds: { default: 60, help: 'seconds under load' },
  idle: { default: 20, help: 'idle seconds measured first (the display alone)' },
  warmup: { default: 10, help: 'warm-up seconds after the server starts' },
});
const { tablets, rate, fps, size, model } = values;

console.log(header(TITLE, command));
console.log(await idleCheck());

const result = await runLoad(
  { tablets, rate, fps, size, model, warmupSeconds: values.warmup, idleSeconds: values.idle, loadSeconds: values.seconds, windowSeconds: 10 },
  (line) => console.log(`  ${line}`),
);

const { tablets: t, probe: p } = result;
const fpsRatio = result.loadFps / result.idleFps;
const rssGrowth = growth(result.windows.map((w) => w.rssMiB), 0.34);
console.log(`
display fps: idle ${fixed(result.idleFps)}, under load ${fixed(result.loadFps)} (${fixed(100 * fpsRatio)} % of idle); 10 s windows: ${result.windows.map((w) => fixed(w.fps)).join(' ')}
probe input -> ack: p50 ${fixed(p.ackP50)} ms, p95 ${fixed(p.ackP95)} ms, p99 ${fixed(p.ackP99)} ms (idle p95 ${fixed(result.idleProbe.ackP95)} ms; ${p.inputs} inputs)
probe input -> first frame showing it: p50 ${fixed(p.frameP50)} ms, p95 ${fixed(p.frameP95)} ms (idle p95 ${fixed(result.idleProbe.frameP95)} ms; ${p.frameMisses} not shown within 5 s)
tablets: ${t.tablets} x ${values.rate}/s: ${t.sent} sent (${fixed(t.sent / values.seconds, 0)}/s), ${t.acked} acknowledged, ${t.refused} refused ${JSON.stringify(t.refusedReasons)}, ${t.unanswered} unanswered; ack p50 ${t.ackP50} ms, p95 ${t.ackP95} ms, p99 ${t.ackP99} ms, max ${fixed(t.ackMax, 0)} ms; ${t.stateEvents} state broadcasts received
server: ${fixed(result.serverCpuPercent, 0)} % CPU under load (of ${200} % on 2 cores); RSS idle ${fixed(result.idleRssMiB)} MiB, load windows ${result.windows.map((w) => fixed(w.rssMiB)).join(' ')} MiB (growth first -> last third ${fixed(100 * rssGrowth)} %)
`);

const checks: [string, boolean][] = [
  [`display fps >= 90 % of idle (${fixed(100 * fpsRatio)} %)`, fpsRatio >= 0.9],
  [`input latency p95 <= 150 ms (${fixed(p.ackP95)} ms)`, p.ackP95 <= 150],
  [`no memory growth: RSS first -> last third <= 5 % (${fixed(100 * rssGrowth)} %)`, rssGrowth <= 0.05],
  [`every tablet input answered (${t.unanswered} unanswered)`, t.unanswered === 0],
];
for (const [what, ok] of checks) console.log(`${ok ? 'PASS' : 'FAIL'}  ${what}`);
if (checks.some(([, ok]) => !ok)) process.exitCode = 1;
