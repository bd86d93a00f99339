/**
 * Batch stills for curation: one PNG per seed (`seed-<n>.png`) through the live path's
 * stack (the generator stage -> the face stage, when the generator has one -> the ESRGAN passes that reach the size -> the live
 * encoder's bicubic resize, server/image/display-pixels.ts), with one generator session,
 * one set of upscalers and one resize graph for the whole batch, then a contact sheet of
 * them all, labelled by seed. Each PNG carries the print metadata (seed, model, settings,
 * the statement that the person does not exist).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { DisplayPixels } from '../image/display-pixels.js';
import { openPrintFace, openPrintGenerator } from '../upscale/print.js';
import { withPrintMetadata } from '../upscale/print-metadata.js';
import { contactSheet } from './contact-sheet.js';
import { openEnlarger, type UpscaleChoice } from './enlarge.js';

export interface BatchSpec {
  modelsDir: string;
  model: string;
  seeds: readonly number[];
  /** Side of each still, px. */
  size: number;
  upscale: UpscaleChoice;
  /** The face stage: '' the generator's related one when installed (as the server), 'off', or a model id. */
  face: string;
  cacheDir: string;
  outDir: string;
}

export interface BatchResult {
  files: string[];
  sheet: string;
  /** What enlarged the generator's picture ("esrgan-slim x4 64 -> 256 px"). */
  enlarge: string;
  /** The face stage that lifted it first, if any. */
  face: string | null;
}

/** Cells of the contact sheet: small enough that 300 seeds fit one screenful of scrolling. */
const SHEET_CELL = 128;
const SHEET_COLUMNS = 20;

export async function renderSeeds(spec: BatchSpec, onProgress: (done: number, total: number, seed: number) => void = () => {}, onNote?: (note: string) => void): Promise<BatchResult> {
  if (spec.seeds.length === 0) throw new Error('no seeds to render');
  await mkdir(spec.outDir, { recursive: true });
  const generator = await openPrintGenerator(spec.modelsDir, spec.model);
  const closers: (() => Promise<unknown>)[] = [() => generator.dispose()];
  try {
    const face = await openPrintFace(spec.modelsDir, generator, spec.face);
    if (face) closers.push(() => face.dispose());
    const from = face?.side ?? generator.spec.resolution;
    const enlarger = await openEnlarger(spec.upscale, from, spec.size, { provider: 'cpu', cacheDir: spec.cacheDir }, onNote);
    closers.push(() => enlarger.dispose());
    const pixels = await DisplayPixels.create();
    closers.push(() => pixels.dispose());
    const licence = generator.manifest.licence;
    const files: string[] = [];
    const thumbs: { image: Buffer; label: string }[] = [];
    for (const [i, seed] of spec.seeds.entries()) {
      const portrait = await generator.paint(seed);
      const painted = await enlarger.enlarge(face ? await face.lift(portrait) : portrait);
      const { data } = await pixels.rgb(painted, spec.size, spec.size);
      const still = sharp(Buffer.from(data.buffer, data.byteOffset, data.byteLength), { raw: { width: spec.size, height: spec.size, channels: 3 } });
      const file = join(spec.outDir, `seed-${seed}.png`);
      const info = {
        seed,
        model: generator.id,
        rights: [licence.model, licence.data].filter(Boolean).join(' '),
        settings: { size: spec.size, generator: { id: generator.id, resolution: generator.spec.resolution }, face: face?.id ?? null, enlarge: enlarger.description, batch: true },
        software: 'Imaginary Portraits (portraits render --seeds)',
        created: new Date(),
      };
      await withPrintMetadata(still.clone(), info).png({ compressionLevel: 6 }).toFile(file);
      thumbs.push({ image: await still.resize(SHEET_CELL, SHEET_CELL, { kernel: 'lanczos3' }).png().toBuffer(), label: `#${seed}` });
      files.push(file);
      onProgress(i + 1, spec.seeds.length, seed);
    }
    const sheet = join(spec.outDir, 'contact-sheet.png');
    await sharp(await contactSheet(thumbs, { cell: SHEET_CELL, columns: SHEET_COLUMNS })).toFile(sheet);
    return { files, sheet, enlarge: enlarger.description, face: face?.id ?? null };
  } finally {
    for (const close of closers.reverse()) await close().catch(() => {});
  }
}
