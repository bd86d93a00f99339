/**
 * A print's PNG carries what it is: written with sharp, read back with sharp (what
 * exiftool shows as XMP Description / Digital Source Type / Seed / Model / Settings and
 * EXIF Image Description).
 */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { AI_STATEMENT, DIGITAL_SOURCE_TYPE, printXmp, withPrintMetadata, type PrintInfo } from '../../server/upscale/print-metadata.js';

const info: PrintInfo = {
  seed: 42,
  model: 'default-face',
  rights: 'Non-commercial research <only> & "as is"',
  settings: { size: 4096, upscaler: { family: 'esrgan-medium', passes: 'x4+x4+x4' }, note: '<&>' },
  software: 'Imaginary Portraits (portraits render)',
  created: new Date('2026-11-22T09:30:00Z'),
};

describe('print metadata', () => {
  it('is in the PNG: XMP with statement, seed, model, settings, source type; EXIF with the statement', async () => {
    const png = await withPrintMetadata(sharp({ create: { width: 16, height: 16, channels: 3, background: '#808080' } }), info).png().toBuffer();
    const meta = await sharp(png).metadata();
    const xmp = meta.xmp?.toString('utf8') ?? '';
    expect(xmp).toContain(AI_STATEMENT);
    expect(xmp).toContain('portraits:Seed="42"');
    expect(xmp).toContain('portraits:Model="default-face"');
    expect(xmp).toContain(`Iptc4xmpExt:DigitalSourceType="${DIGITAL_SOURCE_TYPE}"`);
    expect(xmp).toContain('esrgan-medium');
    expect(xmp).toContain('2026-11-22T09:30:00.000Z');
    const exif = meta.exif?.toString('latin1') ?? '';
    expect(exif).toContain(`${AI_STATEMENT} Imaginary Portrait #42`);
    expect(exif).toContain('Imaginary Portraits [portraits render]');
    expect(exif).toContain('Non-commercial research <only> & "as is"');
  });

  it('escapes text so the XMP stays well-formed', () => {
    const xmp = printXmp(info);
    expect(xmp).toContain('Non-commercial research &lt;only&gt; &amp; &quot;as is&quot;');
    expect(xmp).toContain('&quot;note&quot;:&quot;&lt;&amp;&gt;&quot;');
    expect(xmp).not.toMatch(/<only>|"as is"/);
  });
});
