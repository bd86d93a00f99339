/**
 * Live recording: the JPEG frames the displays are sent, encoded by ffmpeg into an H.264
 * MP4 in the recordings folder, started and stopped by the VJ (OSC) or the administrator
 * (HTTP).
 *
 * The file is a fragmented MP4 (a self-contained fragment every two seconds): a
 * recording cut short by a power cut, a crash or systemd killing the service's whole
 * process group is still playable up to its last fragment, while an ordinary MP4 is
 * unreadable until its index is written at the very end. MKV would survive as well, but
 * browsers and QuickTime do not play it, and artists hand these files on. A clean stop
 * (or server close) ends ffmpeg's input and waits, so the file is complete.
 *
 * Time: the frame path runs at whatever rate the machine manages, but a video has a
 * fixed rate, so each frame is placed at the video frame its generation time falls on
 * and the gaps are filled by repeating the frame before (playback runs at real speed).
 * Pauses longer than MAX_GAP_S (generation idling outside opening hours) are cut out
 * rather than filled with minutes of a still frame.
 *
 * Disk: recording refuses to start below `minFreeBytes` free, checks every few seconds
 * while it runs, and stops cleanly when the floor is reached.
 */
import { existsSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { FrameMeta } from '../../common/frame.js';
import { Emitter } from '../../common/emitter.js';
import { logger } from '../log.js';
import { freeBytes, formatBytes } from './disk-space.js';
import { checkFfmpeg, VideoEncoder, type EncoderOutput } from './ffmpeg.js';

const log = logger('recording');

/** Longest run of repeated frames; a longer pause in the frame path is cut from the video. */
export const MAX_GAP_S = 5;
/** When ffmpeg has this much unread input, frames are dropped instead of queued (it cannot keep up). */
export const MAX_BACKLOG_BYTES = 16 * 1024 * 1024;
const FRAGMENT_SECONDS = 2;

export interface RecorderOptions {
  dir: string;
  fps: number;
  /** Recording refuses to start, and stops, below this many free bytes. */
  minFreeBytes: number;
  /** Milliseconds between free-space checks while recording. */
  checkEveryMs?: number;
  /** x264 constant rate factor. */
  crf?: number;
  /** Injectable for tests (milliseconds). */
  clock?: () => number;
}

/** Why a start or stop was refused, with the HTTP status that says so. */
export class RecordingRefused extends Error {
  constructor(
    message: string,
    readonly status: 409 | 503 | 507,
  ) {
    super(message);
  }
}

export interface FinishedRecording {
  file: string;
  /** Seconds of video and the frames it holds (repeats included). */
  seconds: number;
  frames: number;
  bytes: number;
  stoppedBecause: string;
  /** Set when ffmpeg did not finish the file cleanly (what is there is still playable up to its last fragment). */
  error?: string;
}

export interface RecordingStatus {
  recording: boolean;
  /** While recording: the file, when and by whom it started, and what it holds so far. */
  file?: string;
  startedAt?: string;
  startedBy?: string;
  seconds?: number;
  frames?: number;
  /** Frames received from the frame path, and dropped because ffmpeg fell behind. */
  received?: number;
  dropped?: number;
  /** The ffmpeg process encoding it (for monitoring). */
  pid?: number;
  dir: string;
  fps: number;
  minFreeBytes: number;
  /** The last finished recording. */
  last?: FinishedRecording;
}

interface Session {
  encoder: VideoEncoder;
  file: string;
  startedAt: Date;
  startedBy: string;
  /** Clock time of video frame 0 (set by the first frame). */
  base: number | null;
  written: number;
  received: number;
  dropped: number;
  lastFrame: Buffer | null;
  size: string | null;
  timer: NodeJS.Timeout;
  stopping: Promise<FinishedRecording> | null;
}

export class LiveRecorder {
  private session: Session | null = null;
  private last: FinishedRecording | undefined;
  private starting = false;
  private readonly clock: () => number;
  private readonly listeners = new Emitter<[status: RecordingStatus]>((err) => log.error({ err: (err as Error).message }, 'recording listener failed'));

  constructor(private readonly opts: RecorderOptions) {
    this.clock = opts.clock ?? Date.now;
  }

  get active(): boolean {
    return this.session !== null && this.session.stopping === null;
  }

  /** Called after every start and stop (OSC feedback). */
  onChange(listener: (status: RecordingStatus) => void): () => void {
    return this.listeners.on(listener);
  }

  status(): RecordingStatus {
    const s = this.session;
    const base = { dir: this.opts.dir, fps: this.opts.fps, minFreeBytes: this.opts.minFreeBytes, ...(this.last ? { last: this.last } : {}) };
    if (!s || s.stopping) return { recording: false, ...base };
    return {
      recording: true,
      file: s.file,
      startedAt: s.startedAt.toISOString(),
      startedBy: s.startedBy,
      seconds: s.written / this.opts.fps,
      frames: s.written,
      received: s.received,
      dropped: s.dropped,
      ...(s.encoder.pid !== undefined ? { pid: s.encoder.pid } : {}),
      ...base,
    };
  }

  /** Starts a new file; refused while recording, without ffmpeg, or below the free-space floor. */
  async start(by: string): Promise<RecordingStatus> {
    if (this.session || this.starting) throw new RecordingRefused(`already recording to ${this.session?.file ?? 'a new file'}; stop it first`, 409);
    this.starting = true;
    try {
      try {
        await checkFfmpeg();
      } catch (err) {
        throw new RecordingRefused((err as Error).message, 503);
      }
      let free: number;
      try {
        await mkdir(this.opts.dir, { recursive: true });
        free = await freeBytes(this.opts.dir);
      } catch (err) {
        throw new RecordingRefused(`cannot use the recordings folder ${this.opts.dir} (recordingsDir): ${(err as Error).message}`, 503);
      }
      if (free < this.opts.minFreeBytes) {
        throw new RecordingRefused(`not recording: ${formatBytes(free)} free in ${this.opts.dir}, below the floor of ${formatBytes(this.opts.minFreeBytes)} (minFreeBytes); free some space`, 507);
      }
      const file = this.newFileName(new Date(this.clock()));
      const output: EncoderOutput = { file, crf: this.opts.crf ?? 20, preset: 'veryfast', layout: 'fragmented', gop: Math.max(1, Math.round(this.opts.fps * FRAGMENT_SECONDS)), threads: 1 };
      const encoder = VideoEncoder.start({ kind: 'jpeg', fps: this.opts.fps }, output, { ownGroup: true });
      const session: Session = {
        encoder, file, startedAt: new Date(this.clock()), startedBy: by, base: null, written: 0, received: 0, dropped: 0, lastFrame: null, size: null, stopping: null,
        timer: setInterval(() => void this.checkDisk(), this.opts.checkEveryMs ?? 5000),
      };
      this.session = session;
      // ffmpeg stopping on its own (a full disk, a crash) ends the recording with its reason.
      void encoder.outcome().then((error) => {
        if (this.session === session && !session.stopping && error) void this.finish(session, 'ffmpeg stopped', error);
      });
      log.info({ file, by, free, fps: this.opts.fps }, `recording to ${file}`);
      this.emit();
      return this.status();
    } finally {
      this.starting = false;
    }
  }

  /** Stops and finalises the file; resolves once ffmpeg has written it. */
  async stop(reason = 'stopped'): Promise<FinishedRecording> {
    const s = this.session;
    if (!s) throw new RecordingRefused('not recording', 409);
    return this.finish(s, reason, null);
  }

  /** The frame tap (the record stage calls it with every frame sent to the displays); never blocks. */
  offer(meta: FrameMeta, jpeg: Buffer): void {
    const s = this.session;
    if (!s || s.stopping) return;
    s.received++;
    // ffmpeg fixes the video size from the first frame; a resized stream would be garbled.
    const size = `${meta.width}x${meta.height}`;
    if (s.size === null) s.size = size;
    else if (s.size !== size) {
      s.dropped++;
      return;
    }
    const at = meta.serverTime || this.clock();
    if (s.base === null) s.base = at;
    let slot = Math.round(((at - s.base) * this.opts.fps) / 1000);
    const maxGap = MAX_GAP_S * this.opts.fps;
    if (slot - s.written > maxGap) {
      // A long pause: cut it, continuing the video from here.
      s.base += ((slot - s.written) * 1000) / this.opts.fps;
      slot = s.written;
    }
    if (slot < s.written) return; // faster than the video's frame rate: this slot is taken
    if (s.encoder.backlog > MAX_BACKLOG_BYTES) {
      s.dropped++;
      return;
    }
    this.fill(s, slot);
    if (s.encoder.offer(jpeg)) {
      s.written++;
      s.lastFrame = jpeg;
    }
  }

  /** Stops a recording in progress (server shutdown); the file is finished before this resolves. */
  async close(): Promise<void> {
    const s = this.session;
    if (s) await this.finish(s, 'server stopped', null).catch(() => {});
  }

  /** Repeats the last frame up to (not including) video frame `slot`. */
  private fill(s: Session, slot: number): void {
    if (!s.lastFrame) return;
    while (s.written < slot && s.encoder.offer(s.lastFrame)) s.written++;
  }

  private finish(s: Session, reason: string, error: Error | null): Promise<FinishedRecording> {
    s.stopping ??= (async () => {
      clearInterval(s.timer);
      if (s.base !== null && !error) this.fill(s, Math.min(s.written + MAX_GAP_S * this.opts.fps, Math.round(((this.clock() - s.base) * this.opts.fps) / 1000)));
      const failure = error ?? (await s.encoder.finish().then(() => null, (err: Error) => err));
      const bytes = await stat(s.file).then((st) => st.size, () => 0);
      const done: FinishedRecording = {
        file: s.file,
        seconds: s.written / this.opts.fps,
        frames: s.written,
        bytes,
        stoppedBecause: reason,
        ...(failure ? { error: s.written === 0 ? `no frames were recorded (is a display connected and the installation open?): ${failure.message}` : failure.message } : {}),
      };
      this.last = done;
      this.session = null;
      if (failure) log.error({ ...done }, `recording ended with an error: ${done.error}`);
      else log.info({ ...done }, `recording finished: ${s.file} (${done.seconds.toFixed(1)} s, ${formatBytes(bytes)})`);
      this.emit();
      return done;
    })();
    return s.stopping;
  }

  private async checkDisk(): Promise<void> {
    const s = this.session;
    if (!s || s.stopping) return;
    let free: number;
    try {
      free = await freeBytes(this.opts.dir);
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'cannot read the free disk space');
      return;
    }
    if (free < this.opts.minFreeBytes) {
      log.warn({ free, floor: this.opts.minFreeBytes }, 'disk space below the floor: stopping the recording');
      await this.finish(s, `disk space low (${formatBytes(free)} free, floor ${formatBytes(this.opts.minFreeBytes)})`, null);
    }
  }

  private newFileName(now: Date): string {
    const p = (n: number) => String(n).padStart(2, '0');
    const stamp = `${now.getFullYear()}-${p(now.getMonth() + 1)}-${p(now.getDate())}_${p(now.getHours())}-${p(now.getMinutes())}-${p(now.getSeconds())}`;
    let file = join(this.opts.dir, `portraits-${stamp}.mp4`);
    for (let n = 2; existsSync(file); n++) file = join(this.opts.dir, `portraits-${stamp}-${n}.mp4`);
    return file;
  }

  private emit(): void {
    this.listeners.emit(this.status());
  }
}
