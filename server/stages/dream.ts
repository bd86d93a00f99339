/**
 * The live dream pass. 'gentle' dreams each portrait a little and carries the dreamed
 * detail from frame to frame (decaying), so patterns grow and drift with the face
 * instead of flickering; 'zoom' feeds its own last output back in, slightly zoomed and
 * turned, for the endless Inceptionism zoom, with a trace of the live portrait mixed in.
 * Octaves are cycled one per frame: multi-scale dreaming at the cost of one step.
 */
import { splitmix32 } from '../../common/random.js';
import { dreamStep } from '../dream/engine.js';
import type { ImageOps } from '../dream/image-ops.js';
import type { DreamLibrary } from '../dream/library.js';
import type { Store } from '../store.js';
import { need, type FrameJob, type PlanarImage, type Stage } from './stage.js';

export interface DreamStageOptions {
  /** Side of the square the dream runs at (the portrait is resized to it). */
  size: number;
}

/** Largest step per frame, in 1/255 image units, at strength 1. */
const MAX_STEP = { gentle: 3, zoom: 6 } as const;
/** How much of last frame's dreamed detail survives into this one. */
const DETAIL_CARRY = 0.9;
const ZOOM = { scale: 1.012, radians: 0.002, anchor: 0.04 } as const;
const OCTAVE_SCALE = 1.4;

export class DreamStage implements Stage {
  readonly name = 'dream';
  private detail: Float32Array | null = null;
  private previous: PlanarImage | null = null;
  private frameNo = 0;
  private readonly random = splitmix32(0x5eed);

  constructor(
    private readonly store: Store,
    private readonly ops: ImageOps,
    private readonly library: DreamLibrary,
    private readonly opts: DreamStageOptions,
  ) {}

  async run(job: FrameJob): Promise<void> {
    const settings = this.store.state.dream;
    if (settings.mode === 'off' || settings.strength === 0) {
      this.detail = null;
      this.previous = null;
      return;
    }
    const net = this.library.get(settings.style);
    if (!net) return; // still compiling (or failed, which the library logged): show the portrait as it is
    const size = this.opts.size;
    const image = need(job, 'image', this.name);
    const base = image.width === size && image.height === size ? image : await this.ops.resize(image, size, size);
    const step = settings.strength * MAX_STEP[settings.mode];
    const octave = this.frameNo++ % settings.octaves;

    let src: PlanarImage;
    if (settings.mode === 'gentle') {
      src = { data: base.data.slice(), width: size, height: size };
      if (this.detail?.length === src.data.length) for (let i = 0; i < src.data.length; i++) src.data[i] = src.data[i]! + this.detail[i]! * DETAIL_CARRY;
    } else {
      src = this.previous?.width === size ? await this.ops.zoomRotate(this.previous, ZOOM.scale, ZOOM.radians) : { data: base.data.slice(), width: size, height: size };
      for (let i = 0; i < src.data.length; i++) src.data[i] = src.data[i]! * (1 - ZOOM.anchor) + base.data[i]! * ZOOM.anchor;
    }

    const out = await this.stepAtOctave(net, src, step, octave);
    if (settings.mode === 'gentle') {
      const detail = new Float32Array(out.data.length);
      for (let i = 0; i < detail.length; i++) detail[i] = out.data[i]! - base.data[i]!;
      this.detail = detail;
    } else {
      this.previous = out;
    }
    job.image = out;
    job.meta.dream = { mode: settings.mode, style: settings.style || this.library.names()[0]! };
    job.meta.width = size;
    job.meta.height = size;
  }

  /** One dream step at octave `o`: computed on a smaller copy, its change carried back up. */
  private async stepAtOctave(net: Parameters<typeof dreamStep>[0], src: PlanarImage, step: number, o: number): Promise<PlanarImage> {
    const jitter = Math.max(1, Math.round(src.width / 16));
    if (o === 0) return (await dreamStep(net, src, step, jitter, this.random)).image;
    const w = Math.max(16, Math.round(src.width / OCTAVE_SCALE ** o));
    const small = await this.ops.resize(src, w, w);
    const dreamed = (await dreamStep(net, small, step, Math.max(1, Math.round(jitter / OCTAVE_SCALE ** o)), this.random)).image;
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
