/**
 * The audio analysis (server/audio/analysis.ts) on real WAV files made by ffmpeg: a 120 bpm
 * kick gives an onset every half second (2 Hz, within 5 %) and a strong low band; silence
 * gives no onsets and a level near 0; a sine sweep moves from the low band to the high band.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AudioAnalyser, HOP, SAMPLE_RATE, type AudioFeatures } from '../../server/audio/analysis.js';
import { decode, hasFfmpeg, writeWav, type Fixture } from '../support/audio-fixtures.js';

const ffmpeg = hasFfmpeg();
if (!ffmpeg && process.env.CI === 'true') throw new Error('CI=true but ffmpeg is missing (apt-get install -y ffmpeg)');
const dir = mkdtempSync(join(tmpdir(), 'portraits-audio-'));

function analyse(name: Fixture) {
  const analyser = new AudioAnalyser();
  const frames: AudioFeatures[] = [];
  const samples = decode(writeWav(dir, name), SAMPLE_RATE);
  // In chunks of varied length, as a pipe delivers them.
  for (let i = 0, k = 0; i < samples.length; k++) {
    const n = 300 + ((k * 577) % 1500);
    analyser.push(samples.subarray(i, i + n), (f) => frames.push({ ...f }));
    i += n;
  }
  const onsetTimes: number[] = [];
  frames.forEach((f, i) => {
    if (f.onset === 1) onsetTimes.push((i * HOP) / SAMPLE_RATE);
  });
  return { analyser, frames, onsetTimes };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

describe.skipIf(!ffmpeg)('audio analysis on real WAV files', () => {
  it('a 120 bpm kick: an onset every half second, and the low band thumps with it', () => {
    const { frames, onsetTimes } = analyse('kick120');
    const rate = (onsetTimes.length - 1) / (onsetTimes.at(-1)! - onsetTimes[0]!);
    console.log(`kick120: ${onsetTimes.length} onsets in 8 s, ${rate.toFixed(3)} Hz`);
    expect(onsetTimes.length).toBeGreaterThanOrEqual(15);
    expect(onsetTimes.length).toBeLessThanOrEqual(16);
    expect(Math.abs(rate - 2) / 2).toBeLessThan(0.05);
    // The low band thumps with the kick: strong just after each onset, quiet just before the next.
    const at = (t: number) => frames[Math.round((t * SAMPLE_RATE) / HOP)]!;
    const after = onsetTimes.slice(0, -1).map((t) => at(t + 0.02).low);
    const before = onsetTimes.slice(1).map((t) => at(t - 0.1).low);
    expect(mean(after)).toBeGreaterThan(3 * mean(before));
  });

  it('silence: no onsets, level and bands at rest', () => {
    const { frames, onsetTimes } = analyse('silence');
    expect(onsetTimes).toEqual([]);
    for (const f of frames) for (const v of Object.values(f)) expect(v).toBeLessThan(0.01);
  });

  it('a sine sweep: the low band in the first part, the high band in the last, and no beat', () => {
    const { frames, onsetTimes } = analyse('sweep');
    // 50 Hz -> 5 kHz over 6 s: below 250 Hz for the first ~0.5 s, above 2 kHz after ~3.9 s.
    const seconds = (i: number) => (i * HOP) / SAMPLE_RATE;
    const between = (a: number, b: number, band: 'low' | 'high') => mean(frames.filter((_, i) => seconds(i) >= a && seconds(i) < b).map((f) => f[band]));
    console.log(`sweep: low ${between(0.1, 0.4, 'low').toFixed(2)} then ${between(5, 6, 'low').toFixed(2)}; high ${between(0.1, 1, 'high').toFixed(2)} then ${between(5, 6, 'high').toFixed(2)}`);
    expect(between(0.1, 0.4, 'low')).toBeGreaterThan(0.3);
    expect(between(5, 6, 'low')).toBeLessThan(0.2);
    expect(between(0.1, 1, 'high')).toBeLessThan(0.2);
    expect(between(5, 6, 'high')).toBeGreaterThan(0.5);
    expect(onsetTimes.length).toBeLessThanOrEqual(2);
  });
});
