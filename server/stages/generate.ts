/**
 * latent -> picture, with the GAN generator in onnxruntime. The frame's `face` settings
 * (truncation, style mixing) go in as the generator's extra inputs when its manifest has a W
 * space, and as the classic z-space truncation when it has not (common/generator-inputs.ts);
 * job.latent itself stays the walk's position, so the glide, captures and frame metadata do
 * not depend on how the generator is fed. A failed run may leave the
 * native session unusable (a lost GPU device, a native fault), so the stage then
 * releases it and opens a fresh one, retrying with a growing pause while that fails;
 * frames fail fast meanwhile and the loop goes on. One outage is logged once.
 */
import { generatorFeeds } from '../../common/generator-inputs.js';
import type { StyleInfo } from '../../common/manifest.js';
import { logger } from '../log.js';
import { floatFeeds } from '../onnx/runtime.js';
import type { ModelSession } from '../onnx/session.js';
import { need, type FrameJob, type Stage } from './stage.js';

const log = logger('generate');

/** Pauses between attempts to reopen the session: doubling from `minMs` up to `maxMs`. */
export interface RecoveryOptions {
  minMs: number;
  maxMs: number;
  clock?: () => number;
}

const DEFAULT_RECOVERY: RecoveryOptions = { minMs: 500, maxMs: 30_000 };

interface Outage {
  since: number;
  failedFrames: number;
  nextTry: number;
  pause: number;
  reopenFailures: number;
}

export interface GeneratorSpec {
  input: string;
  output: string;
  latentSize: number;
  resolution: number;
  /** The generator's output value range, mapped to [0, 1]. */
  range: readonly [number, number];
  /** A W space: the truncation and style-mixing inputs (manifest generator.style). */
  style?: StyleInfo;
}

export class GenerateStage implements Stage {
  readonly name = 'generate';
  private outage: Outage | null = null;
  private recreated = 0;
  private readonly recovery: RecoveryOptions;
  private readonly now: () => number;

  constructor(
    private session: ModelSession,
    private readonly spec: GeneratorSpec,
    recovery: Partial<RecoveryOptions> = {},
  ) {
    this.recovery = { ...DEFAULT_RECOVERY, ...recovery };
    this.now = this.recovery.clock ?? Date.now;
  }

  /** The session in use now (a recreated one after a failure). */
  get current(): ModelSession {
    return this.session;
  }

  /** How many times the session has been recreated since start (for tests and diagnostics). */
  get recreations(): number {
    return this.recreated;
  }

  async run(job: FrameJob): Promise<void> {
    const latent = need(job, 'latent', this.name);
    const { output, range } = this.spec;
    const feeds = floatFeeds(generatorFeeds(this.spec, latent, 1, job.snapshot.state.face));
    if (this.outage) await this.recover();
    let result;
    try {
      result = await this.session.run(feeds);
    } catch (err) {
      this.failed(err as Error);
      throw err;
    }
    const tensor = result[output];
    if (!tensor) throw new Error(`generator returned no '${output}'`);
    const [, channels, height, width] = tensor.dims as number[];
    if (channels !== 3 || !height || !width) throw new Error(`generator output has dims [${tensor.dims.join(',')}], expected [1,3,H,W]`);
    const raw = tensor.data as Float32Array;
    const [lo, hi] = range;
    const scale = 1 / (hi - lo);
    const data = new Float32Array(raw.length);
    for (let i = 0; i < raw.length; i++) {
      const v = (raw[i]! - lo) * scale;
      data[i] = v < 0 ? 0 : v > 1 ? 1 : v;
    }
    job.image = { data, width, height };
    job.meta.width = width;
    job.meta.height = height;
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }

  private failed(err: Error): void {
    if (this.outage) return;
    const now = this.now();
    this.outage = { since: now, failedFrames: 1, nextTry: now, pause: this.recovery.minMs, reopenFailures: 0 };
    log.error({ model: this.session.name, err: err.message }, 'generator inference failed; recreating its session');
  }

  /** Reopens the session when the pause is over; until then (or if reopening fails) the frame fails fast. */
  private async recover(): Promise<void> {
    const outage = this.outage!;
    const now = this.now();
    if (now < outage.nextTry) {
      outage.failedFrames += 1;
      throw new Error(`the generator session is being recreated (next attempt in ${outage.nextTry - now} ms)`);
    }
    await this.session.release().catch(() => undefined);
    try {
      this.session = await this.session.reopen();
    } catch (err) {
      outage.failedFrames += 1;
      outage.reopenFailures += 1;
      outage.nextTry = this.now() + outage.pause;
      if (outage.reopenFailures === 1) log.error({ model: this.session.name, err: (err as Error).message }, `cannot recreate the generator session; retrying with pauses up to ${this.recovery.maxMs} ms`);
      outage.pause = Math.min(outage.pause * 2, this.recovery.maxMs);
      throw new Error(`the generator session could not be recreated: ${(err as Error).message}`);
    }
    this.recreated += 1;
    this.outage = null;
    log.warn({ model: this.session.name, failedFrames: outage.failedFrames, afterMs: this.now() - outage.since, attempts: outage.reopenFailures + 1 }, 'generator session recreated; generating again');
  }
}
