/**
 * models/<id>/manifest.json: what a model folder holds and how to run it. The server's
 * registry, the CLI and the controller page (which runs the same generator in the
 * browser) all read manifests through this schema.
 *
 * One manifest describes one model (one network with one job); a model that comes in
 * parts (a GAN's generator and its critic) is two folders that name each other in
 * `related`. Everything beyond id, kind and licence is optional so that converted
 * third-party models can say only what they know; `portraits export` fills it all.
 */
import { z } from './zod.js';

const tensorName = z.string().min(1);
const fileName = z.string().regex(/^[A-Za-z0-9._-]+$/, 'a plain file name inside the model folder');
const range = z.tuple([z.number(), z.number()]).refine(([lo, hi]) => hi > lo, 'range must be [low, high] with high > low');

/** A contiguous run of style layers, by index (first and last included). */
const LayerRangeSchema = z
  .object({
    first: z.number().int().nonnegative(),
    last: z.number().int().nonnegative(),
    /** The resolutions (px) its layers work at. */
    resolutions: z.array(z.number().int().positive()).optional(),
    /** What these layers change in a face, in words. */
    description: z.string().optional(),
  })
  .refine((r) => r.last >= r.first, 'last must be >= first');

/**
 * Generators with a W space (a mapping network, models/tools/export_style.py): besides the
 * latent they take three inputs, so truncation and style mixing are live controls:
 *   psi [N, 1]          w = w_avg + psi (w - w_avg): 1 as trained, 0 the average face
 *   mixInput [N, latent] a second latent, mapped and truncated the same way
 *   mixFrom [N, 1]      float layer index: layers >= mixFrom take mixInput's w (>= layers: no mixing)
 * Layers are grouped by the resolution they work at: coarse (4-8 px), middle (16-32), fine (64+).
 */
export const StyleSchema = z
  .object({
    psi: tensorName,
    mixInput: tensorName,
    mixFrom: tensorName,
    /** Size of w. */
    wSize: z.number().int().positive(),
    /** How many per-layer w's synthesis reads (the count mixFrom refers to). */
    layers: z.number().int().positive(),
    /** The resolution each layer works at, in layer order. */
    layerResolutions: z.array(z.number().int().positive()).optional(),
    groups: z.object({ coarse: LayerRangeSchema, middle: LayerRangeSchema, fine: LayerRangeSchema }),
    truncation: z.string().optional(),
    mixing: z.string().optional(),
  })
  .superRefine((s, ctx) => {
    // The groups cover every layer once, in order: coarse from 0, each next one right after, fine to the last.
    const { coarse, middle, fine } = s.groups;
    const issue = (path: string[], message: string) => ctx.addIssue({ code: 'custom', path, message });
    if (coarse.first !== 0) issue(['groups', 'coarse', 'first'], 'must be 0');
    if (middle.first !== coarse.last + 1) issue(['groups', 'middle', 'first'], `must be ${coarse.last + 1}, right after coarse`);
    if (fine.first !== middle.last + 1) issue(['groups', 'fine', 'first'], `must be ${middle.last + 1}, right after middle`);
    if (fine.last !== s.layers - 1) issue(['groups', 'fine', 'last'], `must be ${s.layers - 1}, the last of ${s.layers} layers`);
    if (s.layerResolutions && s.layerResolutions.length !== s.layers) issue(['layerResolutions'], `has ${s.layerResolutions.length} entries for ${s.layers} layers`);
  });

export const GeneratorSchema = z.object({
  file: fileName,
  input: tensorName,
  output: tensorName,
  latentSize: z.number().int().positive(),
  /** How latents are drawn; seedToLatent() makes standard normals. */
  distribution: z.literal('normal'),
  resolution: z.number().int().positive(),
  /** The output's value range, e.g. [-1, 1]. */
  range,
  layout: z.literal('NCHW'),
  /** Set when the generator has a W space: truncation and style mixing inputs (absent: it takes the latent alone). */
  style: StyleSchema.optional(),
});

/**
 * A curated dream style: what it paints (a blend of layers or single channels, by the
 * friendly layer names below) and the settings it was tuned with on portraits. Visitors
 * see only these; VJs and the CLI also get every layer and channel.
 */
export const DreamStyleSchema = z.object({
  name: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'lower-case letters, digits and -'),
  description: z.string().optional(),
  terms: z.array(z.object({ layer: z.string().min(1), channel: z.number().int().nonnegative().optional(), weight: z.number().positive().optional() })).min(1),
  /** Offline: steps per octave, step size (1/255 units), octaves, their size ratio. */
  iterations: z.number().int().positive().optional(),
  step: z.number().positive().optional(),
  octaves: z.number().int().positive().optional(),
  octaveScale: z.number().gt(1).optional(),
  /** Live: the style's step relative to the stage's (1 = as tuned for the default). */
  liveStep: z.number().positive().optional(),
});

/** A network whose layers the dream passes can amplify. */
/**
 * A face stage (issue 16's stacked generator): an x`scale` super-resolution network trained on
 * faces, run live between the dream and the ESRGAN passes on pictures up to `maxInput` px.
 */
export const FaceStageSchema = z.object({
  file: fileName,
  input: tensorName,
  output: tensorName,
  scale: z.literal(2),
  /** The value range of both input and output, e.g. [-1, 1]. */
  range: z.tuple([z.number(), z.number()]),
  /** Largest input side it is run on (its cost grows with the input's area). */
  maxInput: z.number().int().min(8).max(1024),
  /**
   * The side it was trained to lift: a smaller picture is first enlarged to it (linear, as in
   * training), so a 64 px base lifted by a stage trained on 64 px faces enlarged to 128 comes
   * out at 256 whether a dream pass ran at 128 or not. Absent: pictures are lifted as they come.
   */
  inputSize: z.number().int().min(8).max(1024).optional(),
}).refine((face) => face.inputSize === undefined || face.inputSize <= face.maxInput, { message: 'face.inputSize must not exceed face.maxInput' });

export const DreamNetSchema = z.object({
  file: fileName,
  input: tensorName,
  /** Value range the network expects its input image in. */
  range: z.tuple([z.number(), z.number()]),
  /** Friendly layer names for visitors and VJs -> tensor names in the ONNX graph. */
  layers: z.array(z.object({ name: z.string().min(1), tensor: tensorName, channels: z.number().int().positive().optional(), description: z.string().optional() })).min(1),
  /** Classifiers: the pre-softmax class scores, for "dream toward a class". */
  logits: tensorName.optional(),
  /** Classifiers: a file beside the model with one class name a line, in logit order. */
  labels: fileName.optional(),
  /** Curated styles, the first being the default; without them every layer is a style. */
  styles: z.array(DreamStyleSchema).optional(),
  /** The layer (friendly name) guided dreams match the guide's features at, unless told another; default the middle layer. */
  guideLayer: z.string().min(1).optional(),
});

/** One graph input or output. A string dim is symbolic ("N", "H", "H/2"): any size, named. */
export const TensorSpecSchema = z.object({
  name: tensorName,
  dims: z.array(z.union([z.number().int().positive(), z.string().min(1)])).min(1),
  dtype: z.enum(['float32', 'float16', 'int64', 'int32', 'uint8']),
  range: range.optional(),
  /** Axis order and channel meaning, e.g. "NCHW RGB". */
  layout: z.string().optional(),
  description: z.string().optional(),
});

export const ModelFileSchema = z.object({
  path: fileName,
  /** What the file is for: "weights" (the network), "card", "sample", "reference" ... */
  role: z.string().min(1),
  format: z.string().min(1),
  bytes: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  opset: z.number().int().positive().optional(),
});

export const DatasetTermsSchema = z.object({
  name: z.string().min(1),
  /** Where it came from (a URL or a description; never a copy in this repository). */
  source: z.string().optional(),
  images: z.number().int().nonnegative().optional(),
  terms: z.string().min(1),
});

/**
 * A named direction in latent space (e.g. "age"): adding value x vector to a latent moves
 * the face along it. Sliders run from -1 to 1, so the vector is scaled to what +1 should do.
 */
export const DirectionSchema = z.object({
  vector: z.array(z.number()).min(1),
  description: z.string().optional(),
  /** What the slider's -1 and +1 ends look like, e.g. ["younger", "older"]. */
  ends: z.tuple([z.string().min(1), z.string().min(1)]).optional(),
});

export const ManifestSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/i),
    name: z.string().optional(),
    description: z.string().optional(),
    kind: z.enum(['generator', 'critic', 'classifier', 'upscaler', 'detector', 'embedder']),
    files: z.array(ModelFileSchema).optional(),
    inputs: z.array(TensorSpecSchema).optional(),
    outputs: z.array(TensorSpecSchema).optional(),
    /** Set for generators: how to drive it, in the registry's terms. */
    generator: GeneratorSchema.optional(),
    /** Set for networks the dream passes may use; its `layers` are the friendly layer names. */
    dream: DreamNetSchema.optional(),
    /** Set for a face stage (kind 'upscaler'); a generator names its own in related.face. */
    face: FaceStageSchema.optional(),
    /** Other model folders this one belongs with, by role: { critic: "default-face-critic" }. */
    related: z.record(z.string(), z.string()).optional(),
    directions: z.record(z.string(), DirectionSchema).optional(),
    licence: z.object({
      /** The model's own terms. */
      model: z.string().min(1),
      /** The training data and the terms the model inherits from it. */
      data: z.string().optional(),
      /** False when any inherited term forbids commercial use. */
      commercialUse: z.boolean().optional(),
      datasets: z.array(DatasetTermsSchema).optional(),
    }),
    training: z.record(z.string(), z.unknown()).optional(),
    metrics: z.record(z.string(), z.unknown()).optional(),
    created: z.string().optional(),
  })
  .passthrough()
  .superRefine((m, ctx) => {
    const style = m.generator?.style;
    if (m.generator && style) {
      const names = [m.generator.input, style.psi, style.mixInput, style.mixFrom];
      if (new Set(names).size !== names.length) ctx.addIssue({ code: 'custom', path: ['generator', 'style'], message: `the inputs ${names.join(', ')} must have different names` });
    }
    // Every file the manifest points a runner at must be listed, when files are listed at all.
    if (!m.files) return;
    const listed = new Set(m.files.map((f) => f.path));
    for (const [key, file] of [['generator', m.generator?.file], ['dream', m.dream?.file], ['face', m.face?.file]] as const) {
      if (file && !listed.has(file)) ctx.addIssue({ code: 'custom', path: [key, 'file'], message: `${file} is not in files` });
    }
    if (m.generator && m.directions) {
      for (const [name, d] of Object.entries(m.directions)) {
        if (d.vector.length !== m.generator.latentSize) {
          ctx.addIssue({ code: 'custom', path: ['directions', name], message: `has ${d.vector.length} values, the latent has ${m.generator.latentSize}` });
        }
      }
    }
  });

export type Manifest = z.infer<typeof ManifestSchema>;
export type GeneratorInfo = z.infer<typeof GeneratorSchema>;
export type StyleInfo = z.infer<typeof StyleSchema>;
export type TensorSpec = z.infer<typeof TensorSpecSchema>;
export type DreamStyleEntry = z.infer<typeof DreamStyleSchema>;
export type FaceStage = z.infer<typeof FaceStageSchema>;
