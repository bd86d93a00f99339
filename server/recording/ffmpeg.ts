/**
 * Debian's ffmpeg as the video encoder (H.264 through libx264): frames go in on its
 * stdin, a finished MP4 comes out. ffmpeg is a separate program, so its absence, a full
 * disk or a crash mid-file are ordinary events here, each turned into an error that
 * says what happened and what to do.
 */
import { execFile, spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const INSTALL_HINT = 'install ffmpeg: sudo apt-get install -y ffmpeg';

export class FfmpegMissingError extends Error {}
export class DiskFullError extends Error {}
export class EncoderError extends Error {}

/** The ffmpeg to run: PORTRAITS_FFMPEG when set (a build outside PATH), else `ffmpeg` from PATH. */
export function ffmpegBinary(env: NodeJS.ProcessEnv = process.env): string {
  return env.PORTRAITS_FFMPEG || 'ffmpeg';
}

/**
 * Makes sure ffmpeg runs and has libx264, before any frame is rendered: a long render
 * must not fail at its first frame for want of an encoder. Returns ffmpeg's version line.
 */
export async function checkFfmpeg(binary = ffmpegBinary()): Promise<string> {
  let encoders: string;
  let version: string;
  try {
    version = (await run(binary, ['-hide_banner', '-version'])).stdout.split('\n')[0] ?? '';
    encoders = (await run(binary, ['-hide_banner', '-encoders'], { maxBuffer: 4 * 1024 * 1024 })).stdout;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT' || e.code === 'EACCES') throw new FfmpegMissingError(`ffmpeg was not found (${binary}); ${INSTALL_HINT}`);
    throw new FfmpegMissingError(`ffmpeg (${binary}) does not run: ${e.message.split('\n')[0]}; ${INSTALL_HINT}`);
  }
  if (!/\blibx264\b/.test(encoders)) throw new FfmpegMissingError(`${binary} has no libx264 (H.264) encoder; ${INSTALL_HINT} (Debian's build includes it)`);
  return version;
}

/** What goes into ffmpeg's stdin. */
export type EncoderInput =
  /** Raw interleaved RGB frames of exactly width x height. */
  | { kind: 'rgb24'; width: number; height: number; fps: number }
  /** Concatenated JPEG files (the frames the displays receive). */
  | { kind: 'jpeg'; fps: number };

export interface EncoderOutput {
  file: string;
  /** x264 constant rate factor: 18 is visually lossless, 23 is x264's default. */
  crf: number;
  preset: 'ultrafast' | 'veryfast' | 'faster' | 'fast' | 'medium' | 'slow';
  /**
   * 'faststart': a normal MP4 with its index moved to the front once finished (plays
   * while it downloads; only valid once ffmpeg exits cleanly). 'fragmented': an MP4 of
   * self-contained fragments, each readable as soon as it is written, so a file cut
   * short by a crash or power loss still plays up to its last fragment.
   */
  layout: 'faststart' | 'fragmented';
  /** Keyframe interval in frames (also the fragment length in 'fragmented'); default x264's 250. */
  gop?: number;
  /** Encoder threads; 0 lets x264 choose. The live recorder uses 1 to leave the CPU to the frame path. */
  threads?: number;
}

/** ffmpeg's argument list for one encode (exported for tests and for the docs). */
export function encoderArgs(input: EncoderInput, output: EncoderOutput): string[] {
  const inArgs =
    input.kind === 'rgb24'
      ? ['-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${input.width}x${input.height}`, '-framerate', String(input.fps)]
      : // Minimal probing: the first frame says all there is to know, and ffmpeg must start writing at once, not after seconds of buffering.
        ['-probesize', '32', '-analyzeduration', '0', '-f', 'image2pipe', '-c:v', 'mjpeg', '-framerate', String(input.fps)];
  // yuv420p halves the chroma, which needs even sides; BT.709 tagged explicitly, because
  // untagged video is guessed as BT.601 by some players and BT.709 by others.
  const filter = 'crop=trunc(iw/2)*2:trunc(ih/2)*2,scale=out_color_matrix=bt709:out_range=tv:flags=accurate_rnd+full_chroma_int,format=yuv420p';
  // Fragmented: each fragment goes to disk as soon as it is complete (flush_packets), not when an I/O buffer fills.
  const movflags = output.layout === 'faststart' ? ['-movflags', '+faststart'] : ['-movflags', '+frag_keyframe+empty_moov+default_base_moof', '-flush_packets', '1'];
  return [
    '-hide_banner', '-nostats', '-loglevel', 'error',
    ...inArgs, '-i', 'pipe:0',
    '-an', '-vf', filter,
    '-c:v', 'libx264', '-preset', output.preset, '-crf', String(output.crf),
    ...(output.gop ? ['-g', String(output.gop)] : []),
    ...(output.threads !== undefined ? ['-threads', String(output.threads)] : []),
    '-pix_fmt', 'yuv420p', '-colorspace', 'bt709', '-color_primaries', 'bt709', '-color_trc', 'bt709', '-color_range', 'tv',
    ...movflags, '-f', 'mp4', '-y', output.file,
  ];
}

const STDERR_KEEP = 8 * 1024;

/**
 * One running ffmpeg. write() respects the pipe's back-pressure; finish() closes stdin
 * and waits for ffmpeg to write the file's end; abort() stops it without finishing.
 * If ffmpeg dies early, the next write or finish rejects with its own explanation.
 */
export class VideoEncoder {
  private stderr = '';
  private stdinError: Error | null = null;
  private readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private exited = false;
  private spawnError: Error | null = null;

  private constructor(
    private readonly proc: ChildProcessByStdio<Writable, null, Readable>,
    readonly file: string,
    private readonly binary: string,
  ) {
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-STDERR_KEEP);
    });
    // EPIPE/ECONNRESET when ffmpeg has gone: the exit code and stderr say why.
    proc.stdin.on('error', (err) => {
      this.stdinError ??= err;
    });
    this.exit = new Promise((resolve) => {
      proc.once('error', (err) => {
        this.spawnError = err;
        this.exited = true;
        resolve({ code: null, signal: null });
      });
      proc.once('close', (code, signal) => {
        this.exited = true;
        resolve({ code, signal });
      });
    });
  }

  /**
   * `ownGroup` puts ffmpeg in its own process group, so a Ctrl-C meant for the server
   * does not kill it mid-file: the server finishes it by closing its input instead.
   */
  static start(input: EncoderInput, output: EncoderOutput, opts: { binary?: string; ownGroup?: boolean } = {}): VideoEncoder {
    const binary = opts.binary ?? ffmpegBinary();
    const proc = spawn(binary, encoderArgs(input, output), { stdio: ['pipe', 'ignore', 'pipe'], detached: opts.ownGroup ?? false });
    return new VideoEncoder(proc, output.file, binary);
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  /** Bytes written to stdin that ffmpeg has not read yet. */
  get backlog(): number {
    return this.proc.stdin.writableLength;
  }

  get running(): boolean {
    return !this.exited && this.stdinError === null;
  }

  /** Writes a chunk; resolves once the pipe can take more (or at once if it can). */
  async write(chunk: Uint8Array): Promise<void> {
    if (!this.running) throw await this.failure();
    if (this.proc.stdin.write(chunk)) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        this.proc.stdin.off('drain', done);
        this.proc.stdin.off('close', done);
        resolve();
      };
      this.proc.stdin.on('drain', done);
      this.proc.stdin.on('close', done);
      void this.exit.then(done);
    });
    if (!this.running) throw await this.failure();
  }

  /** Writes without waiting (the live recorder, which must never hold up a frame); false when ffmpeg is gone. */
  offer(chunk: Uint8Array): boolean {
    if (!this.running) return false;
    this.proc.stdin.write(chunk);
    return true;
  }

  /** Ends the input and waits until ffmpeg has finished the file; rejects with the reason if it did not. */
  async finish(): Promise<void> {
    if (!this.exited && !this.proc.stdin.destroyed) this.proc.stdin.end();
    const error = await this.outcome();
    if (error) throw error;
  }

  /** Waits for ffmpeg to exit (however that comes about): null when it finished the file, else why not. */
  async outcome(): Promise<Error | null> {
    const { code } = await this.exit;
    return code === 0 ? null : this.failure();
  }

  /** Stops ffmpeg without finishing the file (the caller removes or keeps it). */
  async abort(): Promise<void> {
    if (!this.exited) {
      this.proc.stdin.destroy();
      this.proc.kill('SIGKILL');
    }
    await this.exit;
  }

  /** Why ffmpeg stopped, as an error to show: a full disk, a missing ffmpeg, or its own last words. */
  private async failure(): Promise<Error> {
    const { code, signal } = await this.exit;
    return explainFailure({ code, signal, stderr: this.stderr, spawnError: this.spawnError, stdinError: this.stdinError, file: this.file, binary: this.binary });
  }
}

export function explainFailure(f: {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  spawnError: Error | null;
  stdinError: Error | null;
  file: string;
  binary: string;
}): Error {
  const spawnCode = (f.spawnError as NodeJS.ErrnoException | null)?.code;
  if (spawnCode === 'ENOENT' || spawnCode === 'EACCES') return new FfmpegMissingError(`ffmpeg was not found (${f.binary}); ${INSTALL_HINT}`);
  if (/No space left on device|ENOSPC|Disk quota exceeded/i.test(f.stderr) || (f.stdinError as NodeJS.ErrnoException | null)?.code === 'ENOSPC') {
    return new DiskFullError(`the disk is full: ffmpeg could not write ${f.file}; free some space (or choose another folder) and try again`);
  }
  const lastWords = f.stderr.trim().split('\n').slice(-4).join(' | ');
  const how = f.signal ? `was stopped by ${f.signal}` : f.code === null ? 'did not start' : `exited with code ${f.code}`;
  return new EncoderError(`ffmpeg ${how} while writing ${f.file}${lastWords ? `: ${lastWords}` : f.spawnError ? `: ${f.spawnError.message}` : ''}`);
}
