/**
 * Tablet-to-screen latency: from a controller input (a socket 'patch' or 'command', whose
 * acknowledgement carries the new state version) to the first frame at a display whose
 * metadata (meta.stateVersion) reflects it. Controller and display are socket.io clients in
 * this process, so both ends are read on one clock; the real server runs in a child
 * process (server/main.ts). Inputs alternate between a walk-speed patch and a 'newFace'
 * command and are spaced at random, so they land at every phase of the frame loop.
 *
 *   npx tsx bench/latency.bench.ts [--samples 100] [--dream off,gentle] [--displays 1]
 *                                  [--fps 30] [--size 256] [--model default-face] [--upscale auto|off|x2|x4]
 *
 * A figure, not a test: no thresholds.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { header, idleCheck } from './support/machine.js';
import { benchOptions, SCENARIO_OPTIONS } from './support/options.js';
import { applyScenario, openController, openDisplay, spawnServer, waitForDream, type BenchDisplay } from './support/server-process.js';
import { fixed, mean, percentile, table } from './support/stats.js';
import { splitmix32 } from '../common/random.js';

const TITLE = 'tablet-to-screen latency: controller input -> first frame reflecting it, at the display';
const { values, command } = benchOptions(import.meta.url, TITLE, {
  samples: { default: 100, help: 'inputs per scenario' },
  displays: { default: 1, help: 'displays connected' },
  ...SCENARIO_OPTIONS,
});
const { samples, displays: displayCount } = values;
const SPACING_MS = [150, 400] as const;
const SAMPLE_TIMEOUT_MS = 5000;

console.log(header(TITLE, command));
console.log(await idleCheck());
console.log(`settings: target ${values.fps} fps, ${values.size}x${values.size} frames, ${displayCount} display(s), ${samples} inputs spaced ${SPACING_MS[0]}-${SPACING_MS[1]} ms apart at random\n`);

interface Result {
  scenario: string;
  latency: number[];
  /** Input sent -> the reflecting frame's latent was chosen: waiting for a frame to pick the input up. */
  pickup: number[];
  /** Latent chosen -> frame at the display: that frame's own path. */
  path: number[];
  ackRtt: number[];
  failures: number;
}

const results: Result[] = [];
for (const dream of values.dream) {
  const scenario = `dream ${dream}`;
  process.stdout.write(`running: ${scenario} `);
  try {
    results.push(await measure(scenario, dream));
    console.log(' done');
  } catch (err) {
    console.log(` FAILED: ${(err as Error).message}`);
  }
}

async function measure(scenario: string, dream: string): Promise<Result> {
  const server = await spawnServer({ fps: values.fps, 'frame-size': values.size, model: values.model });
  const controller = await openController(server.url);
  const displays: BenchDisplay[] = [];
  const random = splitmix32(42);
  const result: Result = { scenario, latency: [], pickup: [], path: [], ackRtt: [], failures: 0 };
  try {
    await applyScenario(controller, { upscale: values.upscale, dream });
    for (let i = 0; i < displayCount; i++) displays.push(await openDisplay(server.url));
    if (dream !== 'off') await waitForDream(displays[0]!);
    await sleep(values.warmup * 1000);
    for (let i = 0; i < samples; i++) {
      await sleep(SPACING_MS[0] + random() * (SPACING_MS[1] - SPACING_MS[0]));
      const t0 = performance.now();
      const wall0 = Date.now();
      const ack = i % 2 ? await controller.command({ type: 'newFace' }) : await controller.patch({ walk: { speed: 0.2 + (i % 10) * 0.01 } });
      result.ackRtt.push(performance.now() - t0);
      if (!ack.ok) throw new Error(`input refused: ${ack.error}`);
      try {
        const arrivals = await Promise.all(displays.map((d) => d.firstReflecting(ack.version, t0, SAMPLE_TIMEOUT_MS)));
        // the slowest display is what a visitor would notice across several screens
        const last = arrivals.reduce((a, b) => (b.at > a.at ? b : a));
        result.latency.push(last.at - t0);
        result.pickup.push(last.meta.serverTime - wall0);
        result.path.push(last.wall - last.meta.serverTime);
      } catch {
        result.failures += 1;
      }
      if (i % 10 === 9) process.stdout.write('.');
    }
    return result;
  } finally {
    for (const d of displays) d.close();
    controller.close();
    await server.stop();
  }
}

if (results.length) {
  console.log('\nlatency in ms (input sent -> first reflecting frame received; the slowest display counts)');
  console.log(
    table(
      ['scenario', 'samples', 'p50', 'p95', 'max', 'mean', 'pickup p50/p95', 'frame path p50/p95', 'ack round trip p50', 'no frame in 5 s'],
      results.map((r) => [
        r.scenario,
        String(r.latency.length),
        fixed(percentile(r.latency, 50)),
        fixed(percentile(r.latency, 95)),
        fixed(Math.max(...r.latency)),
        fixed(mean(r.latency)),
        `${fixed(percentile(r.pickup, 50))}/${fixed(percentile(r.pickup, 95))}`,
        `${fixed(percentile(r.path, 50))}/${fixed(percentile(r.path, 95))}`,
        fixed(percentile(r.ackRtt, 50)),
        String(r.failures),
      ]),
    ),
  );
  console.log('pickup: input sent -> the reflecting frame\'s latent chosen (Date.now() on both sides, 1 ms resolution);');
  console.log('frame path: latent chosen -> that frame received (its stages, then transport).');
}
process.exit(results.length === values.dream.length && results.every((r) => r.failures === 0) ? 0 : 1);
