/**
 * Which upscale passes to run. Live ('auto'): the largest stack of x2/x4 passes whose
 * estimated time fits the frame budget left by the other stages, never larger than the
 * display needs. Prints: x4 passes (x2 when that is enough) until the size is reached.
 * Estimates come from measurements at start, scaled by a load factor that follows every
 * real pass, so the choice tracks the machine's load (a training job, thermal
 * throttling) rather than a number from a README.
 */
import type { UpscaleFactor } from './converted.js';

/** A stack of passes, applied in order; [] is no upscaling. */
export type Plan = readonly UpscaleFactor[];

export function planScale(plan: Plan): number {
  return plan.reduce<number>((s, f) => s * f, 1);
}

export function planName(plan: Plan): string {
  return plan.length === 0 ? 'off' : plan.map((f) => `x${f}`).join('+');
}

/** Passes from `from` px until >= `to` px: x4 while x2 would not be enough, then x2 or x4. */
export function stackToSize(from: number, to: number, factors: readonly UpscaleFactor[] = [2, 4]): UpscaleFactor[] {
  if (!(from > 0)) throw new RangeError(`cannot upscale from ${from} px`);
  const sorted = [...factors].sort((a, b) => a - b);
  const plan: UpscaleFactor[] = [];
  let size = from;
  while (size < to) {
    const f = sorted.find((k) => size * k >= to) ?? sorted[sorted.length - 1]!;
    plan.push(f);
    size *= f;
  }
  return plan;
}

/** Growing stacks, each twice the previous scale. */
const LADDER: readonly Plan[] = [[2], [4], [4, 2], [4, 4], [4, 4, 2], [4, 4, 4]];

/**
 * Candidate plans for a picture of `size` px shown at `target` px, smallest first: no
 * upscaling, then stacks up to the first that reaches the target (a larger one would
 * only be thrown away by the encoder's resize).
 */
export function candidatePlans(size: number, target: number): Plan[] {
  const plans: Plan[] = [[]];
  for (const p of LADDER) {
    if (size * planScale(plans[plans.length - 1]!) >= target) break;
    plans.push(p);
  }
  return plans;
}

const SMOOTHING = 0.2;

/**
 * Cost estimates for passes. Each factor's ms per input pixel is measured once at start;
 * one shared load factor (measured / expected, exponentially averaged) then follows
 * every real pass and every probe, so all estimates rise and fall with the machine's load,
 * also for passes that are not running.
 */
export class PassCosts {
  private readonly base = new Map<UpscaleFactor, number>();
  private probeBaseMs: number | null = null;
  private load = 1;

  /** Start-up measurement of one pass. */
  calibrate(factor: UpscaleFactor, pixels: number, ms: number): void {
    this.base.set(factor, ms / pixels);
  }

  /** Start-up time of the probe (a small fixed pass that follows the load while nothing else runs). */
  calibrateProbe(ms: number): void {
    this.probeBaseMs = ms;
  }

  /** A real pass of `factor` over `pixels` input pixels took `ms`. */
  record(factor: UpscaleFactor, pixels: number, ms: number): void {
    const base = this.base.get(factor);
    if (base !== undefined) this.follow(ms / (base * pixels));
  }

  /** The probe took `ms`. */
  recordProbe(ms: number): void {
    if (this.probeBaseMs) this.follow(ms / this.probeBaseMs);
  }

  /** Now / at start: 1 is as fast as at start, 2 twice as slow. */
  get loadFactor(): number {
    return this.load;
  }

  private follow(ratio: number): void {
    if (Number.isFinite(ratio) && ratio > 0) this.load = this.load * (1 - SMOOTHING) + ratio * SMOOTHING;
  }

  /** Estimated ms of `plan` on a `size` x `size` picture, or null while one of its passes is unmeasured. */
  estimate(plan: Plan, size: number): number | null {
    let ms = 0;
    let side = size;
    for (const f of plan) {
      const c = this.base.get(f);
      if (c === undefined) return null;
      ms += c * side * side;
      side *= f;
    }
    return ms * this.load;
  }
}

export interface Choice {
  plan: Plan;
  /** Estimated ms of the chosen plan. */
  ms: number;
  /** Why, in a sentence, for the log. */
  reason: string;
}

export interface BudgetInput {
  /** Side of the square entering the upscale stage. */
  size: number;
  /** Side of the frames the displays receive. */
  target: number;
  fps: number;
  /** Share of the frame period the whole path may use (config.upscaleBudget). */
  share: number;
  /** Smoothed ms of every other stage per frame. */
  otherMs: number;
  /** The plan running now: it keeps its place while it fits (hysteresis). */
  current: Plan | null;
}

/** A larger plan is taken only with 15 % of the time left to spare, so the choice does not flap. */
const UPGRADE_MARGIN = 0.85;

export function choosePlan(costs: PassCosts, b: BudgetInput): Choice {
  const period = 1000 / b.fps;
  const left = period * b.share - b.otherMs;
  const plans = candidatePlans(b.size, b.target);
  const currentName = b.current ? planName(b.current) : null;
  let best: { plan: Plan; ms: number } = { plan: [], ms: 0 };
  for (const plan of plans.slice(1)) {
    const ms = costs.estimate(plan, b.size);
    if (ms === null) continue;
    const allowed = planName(plan) === currentName ? left : left * UPGRADE_MARGIN;
    if (ms <= allowed) best = { plan, ms };
  }
  const out = b.size * planScale(best.plan);
  const budget = `${left.toFixed(1)} ms left of ${period.toFixed(1)} ms per frame at ${b.fps} fps (budget ${Math.round(b.share * 100)} %, other stages ${b.otherMs.toFixed(1)} ms)`;
  const larger = plans.find((p) => planScale(p) > planScale(best.plan));
  const next = larger ? costs.estimate(larger, b.size) : null;
  const why = larger
    ? `${planName(larger)} would take ~${next === null ? '?' : next.toFixed(1)} ms`
    : out >= b.target
      ? `${out} px covers the ${b.target} px display`
      : 'no larger stack is available';
  const reason = `${planName(best.plan)}: ${b.size} px -> ${out} px${best.plan.length ? ` in ~${best.ms.toFixed(1)} ms` : ''}; ${budget}; ${why}`;
  return { ...best, reason };
}
