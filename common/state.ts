/**
 * The live state: everything a tablet, the VJ or an HTTP call can change.
 * One zod schema is the source of truth for defaults, validation and patches;
 * the server's store is the only place that holds and changes it.
 */
import { z } from './zod.js';
import { DEFAULT_MIDI, MidiSchema } from './midi.js';
import { DEFAULT_MODULATION, ModulationSchema } from './modulation.js';

const seed = z.number().int().min(0).max(2 ** 31 - 1);

export const StateSchema = z.object({
  /** How the latent moves: a random walk, a keyframe loop, a point on the seed plane, or one seed. */
  mode: z.enum(['walk', 'loop', 'plane', 'seed']),
  /** The face shown in 'seed' mode. */
  seed,
  walk: z.object({
    /** The walk's sequence of faces is derived from this seed; "new face" picks a fresh one. */
    seed,
    /** Faces per second; 0 holds the current face. */
    speed: z.number().min(0).max(2),
  }),
  loop: z.object({
    seeds: z.array(seed).min(1).max(64),
    /** Seconds for one pass through all keyframes. */
    period: z.number().min(1).max(3600),
    onBeat: z
      .boolean()
      .describe(
        'loop.onBeat: true: each keyframe lasts a whole number of beats of the modulation tempo (loop.period / the number of seeds, rounded, at least one beat) and each change to the next keyframe starts on a beat; false: keyframes follow loop.period in seconds',
      ),
  }),
  plane: z.object({
    seed,
    /** Position on the seed plane; each integer grid point is one face. */
    x: z.number().min(0).max(16),
    y: z.number().min(0).max(16),
  }),
  /** Seconds over which the face glides to a new target (exponential follow); 0 jumps. */
  glide: z.number().min(0).max(10),
  /**
   * Semantic sliders: each named direction of the generator's manifest (e.g. "age") moves
   * the latent by value x its vector, -1..1 (the vectors are scaled so the ends stay faces).
   * A patch changes only the names it carries; the server refuses names its model lacks.
   */
  directions: z.record(z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/i, 'a direction name from the model manifest'), z.number().min(-1).max(1)),
  /**
   * How the generator paints a face, on top of which face it is (server/stages/generate.ts,
   * common/generator-inputs.ts). Truncation pulls every face toward the model's average face:
   * lower is more typical and better-formed, higher more varied and stranger. Style mixing (only
   * on generators with a W space, manifest generator.style; the server refuses it otherwise)
   * takes one group of styles from a second, fixed face.
   */
  face: z.object({
    truncation: z
      .number()
      .min(0)
      .max(1)
      .describe('face.truncation: 0 to 1, how far faces may stray from the average face (1 = as trained, lower = more typical, better-formed faces); on a generator without a W space the latent is scaled by it'),
    mix: z
      .enum(['off', 'coarse', 'middle', 'fine'])
      .describe("face.mix: off, or which styles come from the face of face.mixSeed: coarse (pose, face shape, hair, skin tone), middle (features and colouring), fine (fine colour and texture); needs a generator with a W space"),
    mixSeed: seed.describe('face.mixSeed: the face whose styles face.mix borrows, an integer 0 to 2147483647'),
  }),
  display: z.object({
    /** Seconds the display takes to blend from one frame to the next; 0 follows the measured frame interval. */
    crossfade: z.number().min(0).max(5),
    /** 0 shows the portrait, 1 is black; values between dim it (the display fades smoothly). */
    blackout: z.number().min(0).max(1),
    /** Show the wall label "Portrait #seed — this person does not exist". */
    caption: z.boolean(),
  }),
  dream: z.object({
    /**
     * off; a gentle pass over each portrait; a full hallucination that zooms into itself; or
     * guided: a gentle pass that draws the portrait toward a guide picture's features (dream.guideFrom).
     */
    mode: z.enum(['off', 'gentle', 'zoom', 'guided']),
    /** How hard each frame is pushed toward what the network sees, 0..1. */
    strength: z.number().min(0).max(1),
    /** A friendly layer name from the dream network's manifest ("" = its first layer). */
    style: z.string().max(64),
    /** Scales the live pass cycles through, one per frame (1 = full size only). */
    octaves: z.number().int().min(1).max(6),
    guideFrom: z
      .enum(['seed', 'capture', 'upload'])
      .describe('dream.guideFrom: what guided mode draws the portrait toward: the face of dream.guideSeed, the capture named dream.guideName, or the uploaded guide picture named dream.guideName'),
    guideSeed: seed.describe('dream.guideSeed: the face a seed guide dreams toward, an integer 0 to 2147483647'),
    guideName: z
      .string()
      .max(64)
      .regex(/^[A-Za-z0-9._-]*$/, 'letters, digits, . _ - only')
      .describe("dream.guideName: a capture's id (guideFrom capture) or an uploaded guide picture's name (guideFrom upload)"),
  }),
  upscale: z.object({
    /** ESRGAN passes after the dream: 'auto' picks the largest that keeps the frame rate; x2/x4 force one pass. */
    mode: z.enum(['auto', 'off', 'x2', 'x4']),
  }),
  /** When true, tablets are politely locked out (the VJ has the stage). */
  visitorLock: z.boolean(),
  /** The VJ's modulation matrix: routes from LFOs, the beat and audio to parameters (common/modulation.ts); visitors never see it. */
  modulation: ModulationSchema,
  /** The VJ's MIDI mappings: a knob, fader or pad to a parameter (common/midi.ts, the VJ page's MIDI learn); visitors never see them. */
  midi: MidiSchema,
});

export type LiveState = z.infer<typeof StateSchema>;

/** The VJ's instruments (the modulation matrix, the MIDI mappings): played by the VJ, never shown to visitors. */
export const INSTRUMENT_KEYS = ['modulation', 'midi'] as const;
type InstrumentKey = (typeof INSTRUMENT_KEYS)[number];

/** The state as a page receives it: the VJ's pages get the instruments, visitors' tablets and displays do not. */
export type PageState = Omit<LiveState, InstrumentKey> & Partial<Pick<LiveState, InstrumentKey>>;

/** `state` without the VJ's instruments (what a visitor, a display or a public reader sees). */
export function withoutInstruments<T extends object>(state: Readonly<T>): Omit<T, InstrumentKey> {
  const out: Record<string, unknown> = { ...state };
  for (const key of INSTRUMENT_KEYS) delete out[key];
  return out as Omit<T, InstrumentKey>;
}

export const DEFAULT_STATE: Readonly<LiveState> = Object.freeze<LiveState>({
  mode: 'walk',
  seed: 42,
  walk: { seed: 1, speed: 0.15 },
  loop: { seeds: [1, 2, 3, 4], period: 40, onBeat: false },
  plane: { seed: 7, x: 8, y: 8 },
  glide: 0.6,
  directions: {},
  // 0.7: StyleGAN's usual gallery value; the faces keep their variety and lose most malformed ones.
  face: { truncation: 0.7, mix: 'off', mixSeed: 3 },
  display: { crossfade: 0, blackout: 0, caption: false },
  dream: { mode: 'off', strength: 0.5, style: '', octaves: 2, guideFrom: 'seed', guideSeed: 7, guideName: '' },
  upscale: { mode: 'auto' },
  visitorLock: false,
  modulation: DEFAULT_MODULATION,
  midi: DEFAULT_MIDI,
});

type Shape = typeof StateSchema.shape;
type PatchShape = {
  [K in keyof Shape]: Shape[K] extends z.ZodObject<infer S> ? z.ZodOptional<z.ZodObject<{ [P in keyof S]: z.ZodOptional<S[P]> }>> : z.ZodOptional<Shape[K]>;
};

function patchShape(): PatchShape {
  const out: Record<string, z.ZodType> = {};
  for (const [key, field] of Object.entries(StateSchema.shape)) {
    out[key] = field instanceof z.ZodObject ? field.partial().strict().optional() : (field as z.ZodType).optional();
  }
  return out as PatchShape;
}

/** A partial state, one level deep; unknown keys are refused so a typo never passes silently. */
export const PatchSchema = z.object(patchShape()).strict();
export type StatePatch = z.infer<typeof PatchSchema>;

/** Applies a validated patch; nested sections merge key by key. */
export function mergeState(state: LiveState, patch: StatePatch): LiveState {
  const next: Record<string, unknown> = { ...state };
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    const current = (state as Record<string, unknown>)[key];
    next[key] = current && typeof current === 'object' && !Array.isArray(current) ? { ...(current as object), ...(value as object) } : value;
  }
  return StateSchema.parse(next);
}

/** A readable one-line reason from a zod error, naming each offending path. */
export function describeError(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
}
