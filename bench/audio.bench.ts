/**
 * What the audio input costs (issue 20: at most 5 % of this machine's CPU): ffmpeg plays a
 * 120 bpm kick in real time into the analysis (server/audio/), as the server runs it, for
 * --seconds; the bench reads the CPU time of this process (the analysis) and of ffmpeg
 * (/proc), and prints each as a share of one core and of the whole machine.
 *
 *   npx tsx bench/audio.bench.ts [--seconds 20]
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AudioInput } from '../server/audio/input.js';
import { writeWav } from '../test/support/audio-fixtures.js';
import { benchOptions } from './support/options.js';

const { values, command } = benchOptions(import.meta.url, 'CPU used by the audio input and its analysis, playing a kick in real time.', {
  seconds: { default: 20, help: 'seconds of audio to analyse in real time' },
});
const cores = os.cpus().length;
const file = writeWav(mkdtempSync(join(tmpdir(), 'portraits-audio-bench-')), 'kick120');
console.log(`audio bench: ${command}`);
console.log(`machine: ${os.cpus()[0]?.model ?? '?'} x${cores}, node ${process.version}, load average ${os.loadavg()[0]!.toFixed(1)}`);

let frames = 0;
let onsets = 0;
const input = new AudioInput({ kind: 'file', path: file }, (f) => {
  frames++;
  if (f.onset === 1) onsets++;
});
const ticks = () => {
  // utime + stime of ffmpeg, clock ticks (100 a second on Linux).
  const pid = (input as unknown as { child: { pid?: number } | null }).child?.pid;
  if (!pid) return 0;
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(fields[11]) + Number(fields[12]);
};
input.start();
await new Promise((r) => setTimeout(r, 1000)); // past ffmpeg's start
const cpu0 = process.cpuUsage();
const ff0 = ticks();
const t0 = performance.now();
await new Promise((r) => setTimeout(r, values.seconds * 1000));
const cpu = process.cpuUsage(cpu0);
const ff = ticks() - ff0;
const wall = (performance.now() - t0) / 1000;
input.stop();

const analysis = (cpu.user + cpu.system) / 1e6 / wall;
const decoding = ff / 100 / wall;
const pct = (share: number) => `${(100 * share).toFixed(2)} % of a core, ${((100 * share) / cores).toFixed(2)} % of the machine`;
console.log(`  ${wall.toFixed(1)} s analysed: ${frames} frames (${(frames / wall).toFixed(1)}/s), ${onsets} onsets (${(onsets / wall).toFixed(2)}/s)`);
console.log(`  analysis (this process, Meyda + onsets): ${pct(analysis)}`);
console.log(`  ffmpeg (decoding, resampling):           ${pct(decoding)}`);
console.log(`  together: ${((100 * (analysis + decoding)) / cores).toFixed(2)} % of the machine (target: at most 5 %)`);
