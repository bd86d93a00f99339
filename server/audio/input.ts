/**
 * The server's audio input (config `audio`, `--audio FILE|DEVICE|off`): ffmpeg reads the
 * machine's capture device (a gallery PC's line-in, through PulseAudio where it runs, else
 * ALSA) or a file (played in real time, looped), and hands mono 22050 Hz samples to the
 * analysis (server/audio/analysis.ts), whose features feed the modulation matrix.
 *
 * A capture device that is missing or busy is not an error for the installation: the log
 * says so once, and the input tries again every RETRY_MS (a line-in plugged in later is
 * picked up). Each distinct ffmpeg complaint is logged once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { logger } from '../log.js';
import { AudioAnalyser, ONSET_LAG_S, SAMPLE_RATE, type AudioFeatures } from './analysis.js';

const log = logger('audio');
const RETRY_MS = 30_000;

export type AudioSource = { kind: 'off' } | { kind: 'device'; format: 'pulse' | 'alsa'; device: string } | { kind: 'file'; path: string };

/** 'off'; 'default' (PulseAudio's default source where PulseAudio runs, else ALSA's); 'alsa:NAME' or 'pulse:NAME'; else a file. */
export function audioSource(setting: string, env: NodeJS.ProcessEnv = process.env): AudioSource {
  const value = setting.trim();
  if (value === '' || value === 'off') return { kind: 'off' };
  if (value === 'default') return { kind: 'device', format: pulseRuns(env) ? 'pulse' : 'alsa', device: 'default' };
  const device = /^(alsa|pulse):(.+)$/.exec(value);
  if (device) return { kind: 'device', format: device[1] as 'alsa' | 'pulse', device: device[2]! };
  return { kind: 'file', path: value };
}

function pulseRuns(env: NodeJS.ProcessEnv): boolean {
  if (env.PULSE_SERVER) return true;
  const runtime = env.XDG_RUNTIME_DIR;
  return Boolean(runtime && existsSync(`${runtime}/pulse/native`));
}

/** ffmpeg's arguments: the source, then mono float samples at the analysis rate on stdout. */
export function ffmpegArgs(source: Exclude<AudioSource, { kind: 'off' }>): string[] {
  const input = source.kind === 'file' ? ['-re', '-stream_loop', '-1', '-i', source.path] : ['-f', source.format, '-i', source.device];
  return ['-hide_banner', '-loglevel', 'error', '-nostdin', ...input, '-vn', '-ac', '1', '-ar', String(SAMPLE_RATE), '-f', 'f32le', 'pipe:1'];
}

export class AudioInput {
  private child: ChildProcess | null = null;
  private retry: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly complained = new Set<string>();
  private analyser = new AudioAnalyser();

  constructor(
    private readonly source: Exclude<AudioSource, { kind: 'off' }>,
    /** Each hop's features, and when (Date.now ms) what they describe was heard: for onsets, the hit itself (the beat tracker's times). */
    private readonly onFeatures: (features: AudioFeatures, heardAt: number) => void,
    private readonly ffmpeg = 'ffmpeg',
  ) {}

  /** What it listens to, for the start log. */
  describe(): string {
    return this.source.kind === 'file' ? `file ${this.source.path} (looped, real time)` : `${this.source.format} device ${this.source.device}`;
  }

  start(): void {
    this.stopped = false;
    if (this.child || this.retry) return;
    if (this.source.kind === 'file' && !existsSync(this.source.path)) {
      log.error({ file: this.source.path }, 'audio: the file given with --audio does not exist; no audio input');
      return;
    }
    this.analyser = new AudioAnalyser();
    const child = spawn(this.ffmpeg, ffmpegArgs(this.source), { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    let carry = Buffer.alloc(0);
    child.stdout!.on('data', (chunk: Buffer) => {
      // Samples are 4 bytes; a chunk may end inside one.
      const bytes = carry.length ? Buffer.concat([carry, chunk]) : chunk;
      const whole = bytes.length - (bytes.length % 4);
      carry = Buffer.from(bytes.subarray(whole));
      const samples = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + whole));
      // ffmpeg hands samples over as they are read (a file in real time, -re): the chunk's last
      // sample is now, and each frame is as much earlier as the samples after it.
      const arrived = Date.now();
      const analyser = this.analyser;
      const end = analyser.position + samples.length;
      analyser.push(samples, (f) => this.onFeatures(f, arrived - ((end - analyser.position) / SAMPLE_RATE + ONSET_LAG_S) * 1000));
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    child.on('error', (err) => this.complain(`cannot run ffmpeg: ${err.message}`));
    child.on('close', (code) => {
      this.child = null;
      if (this.stopped) return;
      this.complain(`ffmpeg stopped (exit ${code}): ${stderr.trim().split('\n').at(-1) || 'no message'}`);
      this.retry = setTimeout(() => {
        this.retry = null;
        if (!this.stopped) this.start();
      }, RETRY_MS);
      this.retry.unref();
    });
  }

  stop(): void {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    this.child?.kill('SIGTERM');
    this.child = null;
  }

  private complain(problem: string): void {
    if (this.complained.has(problem)) return;
    this.complained.add(problem);
    log.warn({ source: this.describe(), problem, retryS: RETRY_MS / 1000 }, 'audio: no input; trying again later (--audio off turns it off)');
  }
}
