/**
 * picture -> a larger picture, with ESRGAN passes (x2, x4, or stacks of them): the step
 * between the small generator (and the dream pass) and the display size. The mode is
 * live state (upscale.mode): 'off', a forced 'x2' or 'x4', or 'auto', which picks the
 * largest stack whose estimated time fits what the frame period (1/fps, times
 * config.upscaleBudget) leaves after the other stages, and never more than the display
 * needs. The encoder then resizes to the configured frame size whatever was chosen.
 *
 * Timing: each pass is measured at start (after the model is converted, the first time,
 * into the cache); every real pass then updates a shared load factor, and while auto runs
 * below the largest useful stack a small probe pass every few seconds keeps the factor
 * current, so a faster machine (or a finished training job) is noticed. Other stages'
 * times come from this frame's job (stages before this one) and the previous frame's
 * job (stages after it), averaged.
 */
import type { ProviderChoice } from '../onnx/runtime.js';
import { logger } from '../log.js';
import { describeCheck, logConversion, type UpscaleFactor, type UpscalerFamily } from '../upscale/converted.js';
import { candidatePlans, choosePlan, PassCosts, planName, planScale, type Plan } from '../upscale/plan.js';
import { Upscaler } from '../upscale/upscaler.js';
import { need, type FrameJob, type Stage } from './stage.js';
import { clamp01, type PlanarImage } from '../image/planar-image.js';
import { splitmix32 } from '../../common/random.js';
import { StageTimes } from './stage-times.js';

const log = logger('upscale');

export interface UpscaleStageOptions {
  family: UpscalerFamily;
  cacheDir: string;
  provider: ProviderChoice;
  /** The frame-rate target and the share of its period the frame path may use. */
  fps: number;
  budget: number;
  /** Side of the frames the displays receive. */
  frameSize: number;
  /** Side of the pictures expected most of the time (the generator's): measured at start. */
  measureSize: number;
  /** Milliseconds between load probes while auto holds back; 0 turns probing off. */
  probeEveryMs?: number;
  /** Injectable for tests. */
  clock?: () => number;
}

const FACTORS: readonly UpscaleFactor[] = [2, 4];
/** The probe: an x2 pass over a corner this large, ~1/7 of a 64 px frame's x2 pass. */
const PROBE_SIZE = 24;
/**
 * Start-up timing works on at most this side and scales per pixel. Timing x4 on a 256 px picture
 * (a 1024 px output) made onnxruntime's arena keep about 900 MiB for the server's whole life,
 * for passes that a picture already at the frame size never runs; real passes correct the
 * estimate through the load factor as soon as they run.
 */
const MEASURE_MAX_SIDE = 64;

export class UpscaleStage implements Stage {
  readonly name = 'upscale';
  private readonly upscalers = new Map<UpscaleFactor, Upscaler>();
  readonly costs = new PassCosts();
  private readonly stageTimes = new StageTimes();
  private previous: FrameJob | null = null;
  private autoPlan: Plan | null = null;
  private lastProbe = 0;
  private unavailable: string | null = null;
  private readonly clock: () => number;

  constructor(private readonly opts: UpscaleStageOptions) {
    this.clock = opts.clock ?? Date.now;
  }

  /** The plan auto runs now (null before its first frame). */
  get autoChoice(): Plan | null {
    return this.autoPlan;
  }

  /**
   * Converts (first start) and opens the passes and times them. A failure leaves the
   * installation running without upscaling (the encoder still sends the configured size)
   * and says why, as the dream pass does without its network.
   */
  async init(): Promise<void> {
    try {
      await this.open();
      await this.measure();
    } catch (err) {
      this.unavailable = (err as Error).message;
      await this.dispose();
      log.error({ family: this.opts.family, err: this.unavailable }, `upscaling is unavailable, frames go to the encoder as they are: ${this.unavailable}`);
    }
  }

  /** Why upscaling is off whatever the mode, or null when it works. */
  get problem(): string | null {
    return this.unavailable;
  }

  private async open(): Promise<void> {
    const onProgress = logConversion(log);
    for (const f of FACTORS) {
      const { upscaler, converted } = await Upscaler.load(this.opts.family, f, this.opts.provider, { cacheDir: this.opts.cacheDir, onProgress });
      this.upscalers.set(f, upscaler);
      log.info(
        { model: converted.id, dir: converted.dir, fresh: converted.fresh, package: `${converted.key.package}@${converted.key.version}`, check: converted.check, provider: upscaler.provider },
        `${converted.id}: ${converted.fresh ? 'converted and cached' : 'using the cached conversion'}; ${describeCheck(converted)}`,
      );
    }
  }

  /** Times each pass at the expected picture size (one warm-up run, then the faster of two). */
  private async measure(): Promise<void> {
    const size = Math.min(this.opts.measureSize, MEASURE_MAX_SIDE);
    const figures: Record<string, number> = {};
    for (const [f, up] of this.upscalers) {
      const img = testPattern(size);
      await up.run(img);
      const ms = Math.min(await timed(() => up.run(img)), await timed(() => up.run(img)));
      this.costs.calibrate(f, size * size, ms);
      figures[`x${f}`] = Math.round(ms * 10) / 10;
    }
    const probe = testPattern(PROBE_SIZE);
    const x2 = this.upscalers.get(2)!;
    await x2.run(probe);
    const probeMs = Math.min(await timed(() => x2.run(probe)), await timed(() => x2.run(probe)));
    this.costs.calibrateProbe(probeMs);
    log.info(
      { family: this.opts.family, size, ms: figures, probeMs: Math.round(probeMs * 10) / 10, fps: this.opts.fps },
      `upscale passes measured at start on ${size} px${size < this.opts.measureSize ? ` (${this.opts.measureSize} px pictures estimated per pixel)` : ''}: ${Object.entries(figures).map(([k, v]) => `${k} ${v} ms`).join(', ')} (frame period ${(1000 / this.opts.fps).toFixed(1)} ms)`,
    );
  }

  async run(job: FrameJob): Promise<void> {
    this.learnStageTimes(job);
    this.previous = job;
    const image = need(job, 'image', this.name);
    if (this.unavailable !== null) return;
    const mode = job.snapshot.state.upscale.mode;
    let plan: Plan;
    if (mode === 'off') plan = [];
    else if (mode === 'x2') plan = [2];
    else if (mode === 'x4') plan = [4];
    else plan = this.chooseAuto(job, image);
    if (mode !== 'auto') this.autoPlan = null;

    let out = image;
    for (const f of plan) {
      const up = this.upscalers.get(f)!;
      const t0 = performance.now();
      out = await up.run(out);
      this.costs.record(f, (out.width / f) * (out.height / f), performance.now() - t0);
    }
    if (mode === 'auto') await this.maybeProbe(image, plan);
    job.image = out;
    job.meta.width = out.width;
    job.meta.height = out.height;
    job.meta.upscale = planName(plan);
  }

  private chooseAuto(job: FrameJob, image: PlanarImage): Plan {
    const size = Math.max(image.width, image.height);
    const choice = choosePlan(this.costs, {
      size,
      target: this.opts.frameSize,
      fps: this.opts.fps,
      share: this.opts.budget,
      otherMs: this.otherStagesMs(job),
      current: this.autoPlan,
    });
    if (this.autoPlan === null || planName(this.autoPlan) !== planName(choice.plan)) {
      log.info(
        { plan: planName(choice.plan), estimateMs: Math.round(choice.ms * 10) / 10, loadFactor: Math.round(this.costs.loadFactor * 100) / 100 },
        `upscale auto chose ${choice.reason}`,
      );
    }
    this.autoPlan = choice.plan;
    return choice.plan;
  }

  /**
   * While auto runs less than the display could use, a small x2 pass now and then keeps
   * the load factor honest (nothing else would measure it while the passes are off).
   */
  private async maybeProbe(image: PlanarImage, plan: Plan): Promise<void> {
    const every = this.opts.probeEveryMs ?? 5000;
    if (every <= 0) return;
    const size = Math.max(image.width, image.height);
    const plans = candidatePlans(size, this.opts.frameSize);
    if (planScale(plans[plans.length - 1]!) <= planScale(plan)) return;
    const now = this.clock();
    if (now - this.lastProbe < every) return;
    this.lastProbe = now;
    const corner = testPattern(PROBE_SIZE);
    const x2 = this.upscalers.get(2)!;
    this.costs.recordProbe(await timed(() => x2.run(corner)));
  }

  /** Ms of every other stage: this frame's for those already run, the average for the rest. */
  private otherStagesMs(job: FrameJob): number {
    const done = job.meta.timings;
    let ms = 0;
    for (const [name, v] of Object.entries(done)) if (name !== this.name) ms += v;
    for (const [name, v] of this.stageTimes.entries()) if (!(name in done) && name !== this.name) ms += v;
    return ms;
  }

  /** The previous frame has finished by now (frames never overlap): learn from all its stage times. */
  private learnStageTimes(job: FrameJob): void {
    const prev = this.previous;
    if (!prev || prev === job) return;
    this.stageTimes.learn(prev.meta.timings);
  }

  async dispose(): Promise<void> {
    const all = [...this.upscalers.values()];
    this.upscalers.clear();
    await Promise.allSettled(all.map((u) => u.dispose()));
  }
}

/** A fixed, face-like-busy picture for timing: smooth gradients plus noise (convolutions do not care about content, but the clamp does). */
function testPattern(size: number): PlanarImage {
  const random = splitmix32(size);
  const plane = size * size;
  const data = new Float32Array(3 * plane);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = y * size + x;
      const n = (random() - 0.5) * 0.2;
      data[i] = clamp01(x / size + n);
      data[plane + i] = clamp01(y / size + n);
      data[2 * plane + i] = clamp01(0.5 + n);
    }
  }
  return { data, width: size, height: size };
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}
