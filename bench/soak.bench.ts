/**
 * Soak: the load bench's crowd (200 visitor tablets at 30 inputs a second, one display)
 * held for an hour at full frame rate. Targets (issue 10): the server's RSS grows by at
 * most 5 % (mean of the first fifth of the run against the last fifth, after the warm-up),
 * and the display's frame rate is stable (every window within 10 % of the run's mean).
 * Progress is printed once a window.
 *
 *   npx tsx bench/soak.bench.ts [--minutes 60] [--window 60] [--tablets 200] [--rate 30]
 *                               [--fps 30] [--size 256] [--model default-face]
 *
 * Exit code 1 when a target is missed. Run it on a quiet machine: it measures the machine too.
 */
import { header, idleCheck } from './support/machine.js';
import { benchOptions, CROWD_OPTIONS } from './support/options.js';
import { fixed, mean } from './support/stats.js';
import { growth, runLoad } from './load-harness.js';

const TITLE = 'soak bench: server memory and display frame rate under sustained load';
const { values, command } = benchOptions(import.meta.url, TITLE, {
  minutes: { default: 60, help: 'minutes under load' },
  window: { default: 60, help: 'seconds per measured window (and progress line)' },
  ...CROWD_OPTIONS,
});
const { minutes, tablets, rate, fps, size, model } = values;
if (!(minutes > 0)) throw new Error('--minutes must be a positive number');

console.log(header(TITLE, command));
console.log(await idleCheck());
const started = Date.now();

const result = await runLoad(
  { tablets, rate, fps, size, model, warmupSeconds: 20, idleSeconds: 20, loadSeconds: Math.round(minutes * 60), windowSeconds: values.window },
  (line) => console.log(`  [${((Date.now() - started) / 60_000).toFixed(1)} min] ${line}`),
);

const fpsSeries = result.windows.map((w) => w.fps);
const rssSeries = result.windows.map((w) => w.rssMiB);
const fpsMean = mean(fpsSeries);
const worst = Math.max(...fpsSeries.map((f) => Math.abs(f - fpsMean) / fpsMean));
const rssGrowth = growth(rssSeries, 0.2);
const t = result.tablets;
console.log(`
${result.windows.length} windows of ${values.window} s over ${fixed(minutes, 1)} min under load
display fps: idle ${fixed(result.idleFps)}; under load mean ${fixed(fpsMean)}, min ${fixed(Math.min(...fpsSeries))}, max ${fixed(Math.max(...fpsSeries))} (largest deviation ${fixed(100 * worst)} %)
server RSS: idle ${fixed(result.idleRssMiB)} MiB; first window ${fixed(rssSeries[0]!)} MiB, last ${fixed(rssSeries.at(-1)!)} MiB, max ${fixed(Math.max(...rssSeries))} MiB; first fifth -> last fifth ${fixed(100 * rssGrowth)} %
probe input -> ack p95 ${fixed(result.probe.ackP95)} ms, -> frame p95 ${fixed(result.probe.frameP95)} ms; tablets: ${t.sent} sent, ${t.acked} acknowledged, ${t.refused} refused, ${t.unanswered} unanswered, ack p95 ${t.ackP95} ms
server: ${fixed(result.serverCpuPercent, 0)} % CPU under load; ${result.health.frames} frames made
`);

const checks: [string, boolean][] = [
  [`RSS growth <= 5 % (${fixed(100 * rssGrowth)} %)`, rssGrowth <= 0.05],
  [`fps stable: every window within 10 % of the mean (largest deviation ${fixed(100 * worst)} %)`, worst <= 0.1],
  [`every tablet input answered (${t.unanswered} unanswered)`, t.unanswered === 0],
];
for (const [what, ok] of checks) console.log(`${ok ? 'PASS' : 'FAIL'}  ${what}`);
if (checks.some(([, ok]) => !ok)) process.exitCode = 1;
