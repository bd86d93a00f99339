/**
 * A planar float picture -> the interleaved RGB bytes a JPEG encoder takes, at the display
 * size, in one small onnxruntime graph: bicubic Resize (antialiased when it shrinks), x255,
 * round, clamp, CHW -> HWC, uint8. It replaces a JavaScript conversion loop plus a libvips
 * enlargement that together took more time than the generator (64 -> 256 px: ~3 ms in
 * libvips against well under 1 ms here; docs/performance.md), so sharp only encodes.
 */
import { encodeModel, floatTensor, model, node, valueInfo } from '../../onnx-compilers/proto.js';
import { floatTensor as runtimeFloat, int64Tensor } from '../onnx/runtime.js';
import { ModelSession } from '../onnx/session.js';
import type { PlanarImage } from './planar-image.js';

const UINT8 = 2;

function displayGraph(): Uint8Array {
  const g = {
    name: 'display-pixels',
    node: [
      // cubic_coeff_a -0.5 (Keys): sharp like Lanczos on faces, without its ringing
      node('Resize', ['x', '', '', 'sizes'], ['resized'], { mode: 'cubic', cubic_coeff_a: -0.5, antialias: 1, coordinate_transformation_mode: 'half_pixel' }, { floats: ['cubic_coeff_a'] }),
      node('Mul', ['resized', 'scale'], ['scaled']),
      node('Add', ['scaled', 'half'], ['rounded']), // Cast truncates: +0.5 rounds to nearest
      node('Clip', ['rounded', 'lo', 'hi'], ['clamped']),
      node('Transpose', ['clamped'], ['hwc'], { perm: [0, 2, 3, 1] }),
      node('Cast', ['hwc'], ['y'], { to: UINT8 }),
    ],
    initializer: [floatTensor('scale', [], [255]), floatTensor('half', [], [0.5]), floatTensor('lo', [], [0]), floatTensor('hi', [], [255])],
    input: [valueInfo('x', [1, 3, 'H', 'W']), { name: 'sizes', type: { tensorType: { elemType: 7, shape: { dim: [{ dimValue: 4 }] } } } }],
    output: [{ name: 'y', type: { tensorType: { elemType: UINT8, shape: { dim: [{ dimValue: 1 }, { dimParam: 'h' }, { dimParam: 'w' }, { dimValue: 3 }] } } } }],
  };
  return encodeModel(model(g, 18));
}

export interface RgbBytes {
  data: Uint8Array;
  width: number;
  height: number;
}

export class DisplayPixels {
  private constructor(private readonly session: ModelSession) {}

  /** On the CPU always: the graph is tiny and its result goes straight to sharp. */
  static async create(): Promise<DisplayPixels> {
    const session = await ModelSession.fromBytes(displayGraph(), 'display-pixels', 'cpu', { inputs: [{ name: 'x' }, { name: 'sizes' }], outputs: [{ name: 'y' }] });
    return new DisplayPixels(session);
  }

  /** `img` (values in [0, 1]; outside is clamped) as width x height interleaved RGB bytes. */
  async rgb(img: PlanarImage, width: number, height: number): Promise<RgbBytes> {
    const out = await this.session.run({ x: runtimeFloat(img.data, [1, 3, img.height, img.width]), sizes: int64Tensor([1, 3, height, width]) });
    const y = out.y;
    if (!y || y.dims.join() !== [1, height, width, 3].join()) throw new Error(`display-pixels returned [${y?.dims.join(',')}], expected [1,${height},${width},3]`);
    return { data: y.data as Uint8Array, width, height };
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
