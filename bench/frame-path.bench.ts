/**
 * Sustained frame rate and milliseconds per stage at default settings, measured on the
 * real server with real socket.io displays that decode nothing but acknowledge at once.
 *
 *   npx tsx bench/frame-path.bench.ts [--seconds 10] [--displays 1] [--fps 30] [--size 256]
 *
 * Prints what it measured and the machine it ran on. A figure, not a test: no thresholds.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { connect, startTestServer } from '../test/support/server.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    displays: { type: 'string', default: '1' },
    fps: { type: 'string', default: '30' },
    size: { type: 'string', default: '256' },
  },
});
const seconds = Number(values.seconds);
const displayCount = Number(values.displays);

const server = await startTestServer({ fps: Number(values.fps), frameSize: Number(values.size) });
const displays = await Promise.all(Array.from({ length: displayCount }, () => connect(server, 'display', { ack: false })));
const received = displays.map(() => 0);
const bytes: number[] = [];
displays.forEach((d, i) =>
  d.on('frame', (_meta, image, ack) => {
    received[i]! += 1;
    if (i === 0) bytes.push((image as ArrayBuffer).byteLength);
    ack();
  }),
);

// warm up (session and JIT), then measure
await new Promise((r) => setTimeout(r, 1500));
const cpu0 = process.cpuUsage();
const frames0 = server.loop.frames;
const recv0 = [...received];
const t0 = performance.now();
let rssMax = 0;
const rssTimer = setInterval(() => (rssMax = Math.max(rssMax, process.memoryUsage().rss)), 200);
await new Promise((r) => setTimeout(r, seconds * 1000));
clearInterval(rssTimer);
const elapsed = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
const generated = (server.loop.frames - frames0) / elapsed;
const perDisplay = received.map((n, i) => (n - recv0[i]!) / elapsed);
const stages = server.loop.stageMs();

console.log(`frame path bench: ${seconds}s, ${displayCount} display(s), target ${values.fps} fps, ${values.size}px, model ${server.config.model}`);
console.log(`machine: ${os.cpus()[0]?.model ?? '?'} x${os.cpus().length}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}`);
console.log(`generated fps: ${generated.toFixed(1)}`);
console.log(`received fps per display: ${perDisplay.map((f) => f.toFixed(1)).join(', ')}`);
console.log(`ms per stage (smoothed): ${Object.entries(stages).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')}`);
console.log(`mean JPEG size: ${(bytes.reduce((a, b) => a + b, 0) / Math.max(1, bytes.length) / 1024).toFixed(1)} KiB`);
console.log(`process CPU: ${(((cpu.user + cpu.system) / 1e6 / elapsed) * 100).toFixed(0)} % of one core; peak RSS ${(rssMax / 2 ** 20).toFixed(0)} MiB`);

for (const d of displays) d.disconnect();
await server.close();
process.exit(0);
