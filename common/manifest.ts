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
import { z } from 'zod';

const tensorName = z.string().min(1);
const fileName = z.string().regex(/^[A-Za-z0-9._-]+$/, 'a plain file name inside the model folder');
const range = z.tuple([z.number(), z.number()]).refine(([lo, hi]) => hi > lo, 'range must be [low, high] with high > low');

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
});

/** A network whose layers the dream passes can amplify. */
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
    // Every file the manifest points a runner at must be listed, when files are listed at all.
    if (!m.files) return;
    const listed = new Set(m.files.map((f) => f.path));
    for (const [key, file] of [['generator', m.generator?.file], ['dream', m.dream?.file]] as const) {
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
export type TensorSpec = z.infer<typeof TensorSpecSchema>;
