/**
 * Real WAV files for the audio tests, made with ffmpeg's lavfi sources: a 120 bpm kick (a
 * 55 Hz thump every half second), silence, and a sine sweep from 50 Hz to 5 kHz; and their
 * samples decoded the way the server reads them (ffmpeg, mono float at 22050 Hz).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export type Fixture = 'kick120' | 'silence' | 'sweep';

const SOURCES: Record<Fixture, string> = {
  kick120: "aevalsrc='0.8*sin(2*PI*55*t)*exp(-25*mod(t,0.5))':s=44100:d=8",
  silence: 'anullsrc=r=44100:cl=mono:d=4',
  sweep: "aevalsrc='0.5*sin(2*PI*(50*t+412.5*t*t))':s=44100:d=6",
};

/** Writes `name`.wav into `dir` and returns its path; throws with ffmpeg's words if it fails. */
export function writeWav(dir: string, name: Fixture): string {
  const path = join(dir, `${name}.wav`);
  const r = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', SOURCES[name], '-ac', '1', path], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ffmpeg could not make ${name}.wav: ${r.stderr || r.error?.message}`);
  return path;
}

export function decode(path: string, sampleRate: number): Float32Array {
  const r = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', path, '-f', 'f32le', '-ac', '1', '-ar', String(sampleRate), 'pipe:1'], { maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`ffmpeg could not decode ${path}: ${r.stderr}`);
  const bytes = r.stdout as Buffer;
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4).slice();
}

export function hasFfmpeg(): boolean {
  return spawnSync('ffmpeg', ['-version']).status === 0;
}
