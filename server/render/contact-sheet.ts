/**
 * A contact sheet: pictures in a grid on a dark ground, each labelled underneath, as one
 * PNG, for curating a batch of seeds at a glance (`portraits render --seeds`) and for the
 * print comparison (server/upscale/print.ts).
 */
import sharp from 'sharp';

export interface SheetPicture {
  /** Encoded picture (PNG or JPEG), any size: it is fitted to the cell. */
  image: Buffer;
  label: string;
}

export interface SheetLayout {
  /** Side of each square cell, px. */
  cell: number;
  /** Cells per row (the default: all in one row). */
  columns?: number;
}

const LABEL_HEIGHT = 28;
const GAP = 4;

export async function contactSheet(pictures: readonly SheetPicture[], { cell, columns = pictures.length }: SheetLayout): Promise<Buffer> {
  if (pictures.length === 0) throw new Error('a contact sheet needs at least one picture');
  const cols = Math.max(1, Math.min(columns, pictures.length));
  const rows = Math.ceil(pictures.length / cols);
  const width = cols * cell + (cols - 1) * GAP;
  const height = rows * (cell + LABEL_HEIGHT) + (rows - 1) * GAP;
  const at = (i: number) => ({ left: (i % cols) * (cell + GAP), top: Math.floor(i / cols) * (cell + LABEL_HEIGHT + GAP) });
  const cells = await Promise.all(
    pictures.map(async (p, i) => ({ input: await sharp(p.image).resize(cell, cell, { fit: 'fill', kernel: 'lanczos3' }).png().toBuffer(), ...at(i) })),
  );
  const labels = pictures
    .map((p, i) => {
      const { left, top } = at(i);
      return `<text x="${left + cell / 2}" y="${top + cell + 19}" text-anchor="middle">${escapeXml(p.label)}</text>`;
    })
    .join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><style>text{font:13px sans-serif;fill:#ddd}</style>${labels}</svg>`;
  return sharp({ create: { width, height, channels: 3, background: '#111' } })
    .composite([...cells, { input: Buffer.from(svg), left: 0, top: 0 }])
    .png({ compressionLevel: 9 })
    .toBuffer();
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
