/**
 * What a print says about itself, embedded in the PNG: XMP (sharp writes it as the
 * standard "XML:com.adobe.xmp" text chunk) with the statement in dc:description, the IPTC
 * digital-source type for trained-algorithm media (the field that marks AI-generated
 * pictures), and the seed, model and settings in the project's own namespace; plus EXIF
 * (PNG eXIf chunk) ImageDescription/Software/Copyright for viewers that read only EXIF.
 * exiftool shows both: Description, Digital Source Type, Seed, Model, Settings, ...
 */
import type { Sharp } from 'sharp';

export const AI_STATEMENT = 'AI-generated; this person does not exist.';
/** IPTC NewsCodes: "created by a model trained on sampled content" (AI-generated). */
export const DIGITAL_SOURCE_TYPE = 'http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia';
export const XMP_NAMESPACE = 'http://ns.imaginary-portraits.invalid/render/1.0/';

export interface PrintInfo {
  seed: number;
  /** Generator model id. */
  model: string;
  /** The generator's terms (its manifest's licence), carried into dc:rights. */
  rights?: string;
  /** Every setting that shaped the picture (dream, upscalers, size), as JSON. */
  settings: Record<string, unknown>;
  software: string;
  created: Date;
}

export function printTitle(info: PrintInfo): string {
  return `Imaginary Portrait #${info.seed}`;
}

export function printDescription(info: PrintInfo): string {
  return `${AI_STATEMENT} ${printTitle(info)}, painted by the generator '${info.model}' from seed ${info.seed}.`;
}

function xml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** An XMP packet; every text value is XML-escaped. */
export function printXmp(info: PrintInfo): string {
  const alt = (value: string) => `<rdf:Alt><rdf:li xml:lang="x-default">${xml(value)}</rdf:li></rdf:Alt>`;
  return [
    '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>',
    '<x:xmpmeta xmlns:x="adobe:ns:meta/">',
    ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">',
    '  <rdf:Description rdf:about=""',
    '    xmlns:dc="http://purl.org/dc/elements/1.1/"',
    '    xmlns:xmp="http://ns.adobe.com/xap/1.0/"',
    '    xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"',
    `    xmlns:portraits="${XMP_NAMESPACE}"`,
    `    xmp:CreatorTool="${xml(info.software)}"`,
    `    xmp:CreateDate="${info.created.toISOString()}"`,
    `    Iptc4xmpExt:DigitalSourceType="${DIGITAL_SOURCE_TYPE}"`,
    `    portraits:Seed="${info.seed}"`,
    `    portraits:Model="${xml(info.model)}"`,
    `    portraits:Settings="${xml(JSON.stringify(info.settings))}">`,
    `   <dc:title>${alt(printTitle(info))}</dc:title>`,
    `   <dc:description>${alt(printDescription(info))}</dc:description>`,
    ...(info.rights ? [`   <dc:rights>${alt(info.rights)}</dc:rights>`] : []),
    '  </rdf:Description>',
    ' </rdf:RDF>',
    '</x:xmpmeta>',
    '<?xpacket end="w"?>',
  ].join('\n');
}

/**
 * EXIF strings are ASCII: anything else becomes '?'. Brackets replace parentheses because
 * libvips reads a string's trailing " (...)" as its own type annotation and drops it.
 */
function ascii(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').replace(/\(/g, '[').replace(/\)/g, ']');
}

/** Adds the XMP and EXIF above to a sharp pipeline (call before .png()). */
export function withPrintMetadata(img: Sharp, info: PrintInfo): Sharp {
  return img.withXmp(printXmp(info)).withExif({
    IFD0: {
      ImageDescription: ascii(printDescription(info)),
      Software: ascii(info.software),
      ...(info.rights ? { Copyright: ascii(info.rights) } : {}),
    },
  });
}
