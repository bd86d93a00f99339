/**
 * models/<id>/manifest.json: what a model folder holds and how to run it. The server's
 * registry, the CLI and the controller page (which runs the same generator in the
 * browser) all read manifests through this schema.
 */
import { z } from 'zod';

const tensorName = z.string().min(1);
const fileName = z.string().regex(/^[A-Za-z0-9._-]+$/, 'a plain file name inside the model folder');

export const GeneratorSchema = z.object({
  file: fileName,
  input: tensorName,
  output: tensorName,
  latentSize: z.number().int().positive(),
  /** How latents are drawn; seedToLatent() makes standard normals. */
  distribution: z.literal('normal'),
  resolution: z.number().int().positive(),
  /** The output's value range, e.g. [-1, 1]. */
  range: z.tuple([z.number(), z.number()]).refine(([lo, hi]) => hi > lo, 'range must be [low, high] with high > low'),
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
});

export const ManifestSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/i),
    name: z.string().optional(),
    description: z.string().optional(),
    kind: z.enum(['face-gan', 'classifier', 'upscaler']),
    generator: GeneratorSchema.optional(),
    dream: DreamNetSchema.optional(),
    licence: z.object({
      /** The model's own terms. */
      model: z.string().min(1),
      /** The training data and the terms the model inherits from it. */
      data: z.string().optional(),
    }),
    training: z.record(z.string(), z.unknown()).optional(),
    metrics: z.record(z.string(), z.unknown()).optional(),
  })
  .passthrough();

export type Manifest = z.infer<typeof ManifestSchema>;
export type GeneratorInfo = z.infer<typeof GeneratorSchema>;
