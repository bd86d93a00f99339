/**
 * The live dream pass. 'gentle' dreams each portrait a little and carries the dreamed
 * detail from frame to frame (decaying), moved with the face by the optical flow between
 * consecutive portraits (server/dream/flow.ts), so patterns grow and stay on the face
 * instead of flickering; 'guided' does the same toward a guide picture's features (another
 * seed's portrait, a capture or an upload: server/dream/guides.ts) instead of a style's
 * layers; 'zoom' feeds its own last output back in, slightly zoomed and
 * turned, for the endless Inceptionism zoom (server/dream/zoom.ts: a share of the live
 * portrait blended back in and the picture held to the portrait's colour statistics,
 * so it keeps its contrast and colours however long it runs).
 * Octaves are cycled one per frame: multi-scale dreaming at the cost of one step. Each
 * step is taken in the portrait's decorrelated colours with a pyramid-normalised
 * gradient (server/dream/engine.ts), and the result keeps the portrait's colours.
 *
 * On a video wall (frames carry a slot, common/wall.ts) every node must dream the same
 * picture the same way: the jitter is seeded from the slot and the octave is slot modulo
 * octaves, so nothing random differs between nodes; the carried detail (gentle) and the
 * fed-back picture (zoom) decay (x0.9 and x0.96 a frame), so a node that joined late or
 * missed a slot converges on the others within a few seconds. Each picture has its own
 * carried state (a gallery's screens differ), and a second screen of the same picture in
 * the same slot (two tiles on one node) reuses the first one's result.
 */
import { hashSeeds, splitmix32 } from '../../common/random.js';
import { holdColours, pictureBasis } from '../dream/colour.js';
import { DREAM_CONTRAST, dreamStep, type StepShape } from '../dream/engine.js';
import { FLOW_SIDE, lumaAt, opticalFlow, warpByFlow } from '../dream/flow.js';
import { locateGuide, type GuideFolders } from '../dream/guides.js';
import type { DreamNet } from '../dream/net.js';
import { logger } from '../log.js';
import type { LiveState } from '../../common/state.js';
import type { ImageOps } from '../dream/image-ops.js';
import type { DreamLibrary } from '../dream/library.js';
import { ZOOM_LIVE, zoomFeed, zoomHold } from '../dream/zoom.js';
import { need, type FrameJob, type Stage } from './stage.js';
import type { PlanarImage } from '../image/planar-image.js';

export interface DreamStageOptions {
  /** Side of the square the dream runs at (the portrait is resized to it). */
  size: number;
  /** Which picture a frame shows, for the carried state (walls: one per gallery screen); default one picture. */
  pictureKey?: (job: FrameJob) => string;
  /** How gentle carries its detail to the next frame (config dreamCarry); default 'warped'. */
  carry?: DreamCarry;
  /** Guided mode's pictures: the folders of captures and uploads, and a seed's portrait from the generator. Without it guided mode shows the portrait undreamed. */
  guides?: { folders: GuideFolders; portrait(seed: number, job: FrameJob): Promise<PlanarImage> };
}

/** 'warped': the detail moves with the face (optical flow); 'still': it stays put; 'off': none carried. */
export type DreamCarry = 'warped' | 'still' | 'off';

/** What one picture carries from frame to frame. */
interface Carried {
  detail: Float32Array | null;
  /** Luminance of the last undreamed portrait at FLOW_SIDE, to find how the face moved since. */
  luma: Float32Array | null;
  previous: PlanarImage | null;
  /** Walls: the slot last dreamed and its result, reused by another screen of the same picture. */
  slot: number | null;
  out: PlanarImage | null;
}

const log = logger('dream');

/** Largest step per frame, in 1/255 image units, at strength 1 (times the style's liveStep). */
const MAX_STEP = { gentle: 3, zoom: 6, guided: 3 } as const;
/** How much of last frame's dreamed detail survives into this one. */
const DETAIL_CARRY = 0.9;
const OCTAVE_SCALE = 1.4;

/** Laplacian pyramid bands the live gradient is normalised over. */
const PYRAMID = 3;

export class DreamStage implements Stage {
  readonly name = 'dream';
  private readonly carried = new Map<string, Carried>();
  private frameNo = 0;
  private guideProblem: string | null = null;
  private readonly random = splitmix32(0x5eed);

  constructor(
    private readonly ops: ImageOps,
    private readonly library: DreamLibrary,
    private readonly opts: DreamStageOptions,
  ) {}

  async run(job: FrameJob): Promise<void> {
    const settings = job.snapshot.state.dream;
    if (settings.mode === 'off' || settings.strength === 0) {
      this.carried.clear();
      return;
    }
    const net = settings.mode === 'guided' ? this.guidedNet(settings, job) : this.library.get(settings.style);
    if (!net) return; // still compiling (or failed, which the library logged): show the portrait as it is
    const key = this.opts.pictureKey?.(job) ?? '';
    let carried = this.carried.get(key);
    if (!carried) this.carried.set(key, (carried = { detail: null, luma: null, previous: null, slot: null, out: null }));
    const slot = job.meta.slot;
    if (slot !== undefined && carried.slot === slot && carried.out) {
      job.image = { data: carried.out.data.slice(), width: carried.out.width, height: carried.out.height };
      this.describe(job, settings);
      return;
    }
    const size = this.opts.size;
    const image = need(job, 'image', this.name);
    const base = image.width === size && image.height === size ? image : await this.ops.resize(image, size, size);
    const step = settings.strength * MAX_STEP[settings.mode] * (settings.mode === 'guided' ? 1 : (this.library.resolve(settings.style)?.tuning.liveStep ?? 1));
    // Guided dreams move like gentle ones; only what they are drawn toward differs.
    const gentle = settings.mode !== 'zoom';
    const portrait = pictureBasis(base);
    const shape: StepShape = { colour: portrait, pyramid: PYRAMID };
    const octave = (slot ?? this.frameNo++) % settings.octaves;
    const random = slot === undefined ? this.random : splitmix32(hashSeeds(0x5eed, slot));

    let src: PlanarImage;
    if (gentle) {
      src = { data: base.data.slice(), width: size, height: size };
      const detail = this.carriedDetail(carried, base);
      if (detail?.length === src.data.length) for (let i = 0; i < src.data.length; i++) src.data[i] = src.data[i]! + detail[i]! * DETAIL_CARRY;
    } else {
      src = await zoomFeed(this.ops, carried.previous?.width === size ? carried.previous : null, base, ZOOM_LIVE);
    }

    const out = await this.stepAtOctave(net, src, step, octave, random, shape);
    if (gentle) holdColours(out, portrait, { contrast: DREAM_CONTRAST });
    else zoomHold(out, portrait, ZOOM_LIVE);
    if (gentle) {
      const detail = new Float32Array(out.data.length);
      for (let i = 0; i < detail.length; i++) detail[i] = out.data[i]! - base.data[i]!;
      carried.detail = detail;
      carried.previous = null;
    } else {
      carried.previous = out;
      carried.detail = null;
      carried.luma = null;
    }
    if (slot !== undefined) {
      carried.slot = slot;
      carried.out = out;
      job.image = { data: out.data.slice(), width: out.width, height: out.height };
    } else {
      job.image = out;
    }
    this.describe(job, settings);
  }

  /** Guided mode's network for this frame's guide, or null while it is made (or cannot be: said once in the log). */
  private guidedNet(settings: LiveState['dream'], job: FrameJob): DreamNet | null {
    const guides = this.opts.guides;
    if (!guides) return null;
    const located = locateGuide(settings, guides.folders, (seed) => guides.portrait(seed, job), (img, side) => (img.width === side && img.height === side ? Promise.resolve(img) : this.ops.resize(img, side, side)));
    if ('problem' in located) {
      if (this.guideProblem !== located.problem) log.warn({ problem: located.problem }, 'guided dream: no guide picture; the portrait is shown undreamed');
      this.guideProblem = located.problem;
      return null;
    }
    this.guideProblem = null;
    return this.library.guided(settings.style, located.key, () => located.load(this.opts.size));
  }

  /** Last frame's dreamed detail, moved to where the face is now (or as it was, or none: opts.carry). */
  private carriedDetail(carried: Carried, base: PlanarImage): Float32Array | null {
    const carry = this.opts.carry ?? 'warped';
    const luma = carry === 'warped' ? lumaAt(base, FLOW_SIDE) : null;
    const previousLuma = carried.luma;
    carried.luma = luma;
    const detail = carried.detail;
    if (carry === 'off' || !detail || detail.length !== base.data.length) return null;
    if (!luma || !previousLuma) return detail;
    const flow = opticalFlow(luma, previousLuma, FLOW_SIDE);
    return warpByFlow({ data: detail, width: base.width, height: base.height }, flow).data;
  }

  private describe(job: FrameJob, settings: { mode: string; style: string }): void {
    job.meta.dream = { mode: settings.mode, style: settings.style || this.library.names()[0]! };
    job.meta.width = this.opts.size;
    job.meta.height = this.opts.size;
  }

  /** One dream step at octave `o`: computed on a smaller copy, its change carried back up. */
  private async stepAtOctave(net: Parameters<typeof dreamStep>[0], src: PlanarImage, step: number, o: number, random: () => number, shape: StepShape): Promise<PlanarImage> {
    const jitter = Math.max(1, Math.round(src.width / 16));
    if (o === 0) return (await dreamStep(net, src, step, jitter, random, shape)).image;
    const w = Math.max(16, Math.round(src.width / OCTAVE_SCALE ** o));
    const small = await this.ops.resize(src, w, w);
    const dreamed = (await dreamStep(net, small, step, Math.max(1, Math.round(jitter / OCTAVE_SCALE ** o)), random, shape)).image;
    for (let i = 0; i < dreamed.data.length; i++) dreamed.data[i] = dreamed.data[i]! - small.data[i]!;
    const change = await this.ops.resize(dreamed, src.width, src.height);
    const out = new Float32Array(src.data.length);
    for (let i = 0; i < out.length; i++) {
      const v = src.data[i]! + change.data[i]!;
      out[i] = v < 0 ? 0 : v > 1 ? 1 : v;
    }
    return { data: out, width: src.width, height: src.height };
  }
}
