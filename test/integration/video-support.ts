/**
 * ffmpeg/ffprobe for the video and recording tests: whether they are installed (skip
 * with a reason if not, fail under CI=true), what ffprobe says about a file, and decoded
 * frames as RGB bytes for pixel comparisons.
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** True when ffmpeg and ffprobe run; otherwise prints why the caller skips (or throws under CI=true). */
export function haveFfmpeg(): boolean {
  try {
    execFileSync('ffmpeg', ['-hide_banner', '-version'], { stdio: 'ignore' });
    execFileSync('ffprobe', ['-hide_banner', '-version'], { stdio: 'ignore' });
    return true;
  } catch {
    const why = 'ffmpeg/ffprobe are not installed (sudo apt-get install -y ffmpeg; listed in install/test-packages.txt)';
    if (process.env.CI === 'true') throw new Error(`CI=true but ${why}`);
    console.warn(`skipped: ${why}`);
    return false;
  }
}

export interface Probe {
  codec: string;
  pixFmt: string;
  width: number;
  height: number;
  /** Frames counted by decoding the whole stream (not the header's claim). */
  frames: number;
  /** Seconds, from the container. */
  duration: number;
  frameRate: string;
}

/** ffprobe's view of the first video stream; rejects (with ffprobe's message) when the file is not readable. */
export async function probe(file: string): Promise<Probe> {
  const { stdout } = await run('ffprobe', [
    '-v', 'error', '-select_streams', 'v:0', '-count_frames',
    '-show_entries', 'stream=codec_name,pix_fmt,width,height,nb_read_frames,r_frame_rate:format=duration',
    '-of', 'json', file,
  ]);
  const info = JSON.parse(stdout) as { streams: Record<string, string | number>[]; format: { duration?: string } };
  const s = info.streams[0];
  if (!s) throw new Error(`${file} has no video stream`);
  return {
    codec: String(s.codec_name),
    pixFmt: String(s.pix_fmt),
    width: Number(s.width),
    height: Number(s.height),
    frames: Number(s.nb_read_frames),
    duration: Number(info.format.duration),
    frameRate: String(s.r_frame_rate),
  };
}

/** Every frame of a video decoded to RGB (one Buffer per frame). */
export async function decodeFrames(file: string, width: number, height: number): Promise<Buffer[]> {
  const { stdout } = await run('ffmpeg', ['-v', 'error', '-i', file, '-sws_flags', 'accurate_rnd+full_chroma_int+bicubic', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { encoding: 'buffer', maxBuffer: 1024 * 1024 * 1024 });
  const size = width * height * 3;
  if (stdout.length % size !== 0) throw new Error(`decoded ${stdout.length} bytes, not a whole number of ${width}x${height} frames`);
  const frames: Buffer[] = [];
  for (let o = 0; o < stdout.length; o += size) frames.push(stdout.subarray(o, o + size));
  return frames;
}

/** Mean absolute difference per channel value, in 0-255 levels. */
export function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) throw new Error(`cannot compare ${a.length} with ${b.length} bytes`);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
}
