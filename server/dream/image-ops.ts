/**
 * Resampling for the dream passes, done by onnxruntime's own Resize (antialiased) and
 * GridSample kernels: float precision (the dream's detail layer is signed and small),
 * any size, native speed. Two tiny graphs, built once.
 */
import { model, node, valueInfo } from '../../onnx-compilers/proto.js';
import { encodeModel } from '../../onnx-compilers/proto.js';
import { floatTensor, int64Tensor } from '../onnx/runtime.js';
import { ModelSession } from '../onnx/session.js';
import type { PlanarImage } from '../image/planar-image.js';

function resizeGraph(): Uint8Array {
  const g = {
    name: 'resize',
    node: [node('Resize', ['x', '', '', 'sizes'], ['y'], { mode: 'linear', antialias: 1, coordinate_transformation_mode: 'half_pixel' })],
    input: [valueInfo('x', [1, 3, 'H', 'W']), { name: 'sizes', type: { tensorType: { elemType: 7, shape: { dim: [{ dimValue: 4 }] } } } }],
    output: [valueInfo('y', [1, 3, 'h', 'w'])],
  };
  return encodeModel(model(g, 18));
}

function warpGraph(): Uint8Array {
  const g = {
    name: 'warp',
    node: [node('GridSample', ['x', 'grid'], ['y'], { mode: 'bilinear', padding_mode: 'reflection', align_corners: 0 })],
    input: [valueInfo('x', [1, 3, 'H', 'W']), valueInfo('grid', [1, 'H', 'W', 2])],
    output: [valueInfo('y', [1, 3, 'H', 'W'])],
  };
  return encodeModel(model(g, 18));
}

export class ImageOps {
  private gridKey = '';
  private grid = new Float32Array(0);

  private constructor(
    private readonly resizer: ModelSession,
    private readonly warper: ModelSession,
  ) {}

  /** Always on the CPU: these are cheap, and mixing devices would copy every frame. */
  static async create(): Promise<ImageOps> {
    const io = (names: string[]) => names.map((name) => ({ name }));
    const resizer = await ModelSession.fromBytes(resizeGraph(), 'resize', 'cpu', { inputs: io(['x']), outputs: io(['y']) });
    const warper = await ModelSession.fromBytes(warpGraph(), 'warp', 'cpu', { inputs: io(['x', 'grid']), outputs: io(['y']) });
    return new ImageOps(resizer, warper);
  }

  async resize(img: PlanarImage, width: number, height: number): Promise<PlanarImage> {
    if (img.width === width && img.height === height) return { data: img.data.slice(), width, height };
    const out = await this.resizer.run({ x: floatTensor(img.data, [1, 3, img.height, img.width]), sizes: int64Tensor([1, 3, height, width]) });
    return { data: out.y!.data as Float32Array, width, height };
  }

  /**
   * Zooms into the centre by `zoom` (> 1 magnifies) and rotates by `radians`: the
   * "iterations" mode of DeepDream feeds this back in for endless zooms.
   */
  async zoomRotate(img: PlanarImage, zoom: number, radians: number): Promise<PlanarImage> {
    const { width: w, height: h } = img;
    const key = `${w}x${h}:${zoom}:${radians}`;
    if (key !== this.gridKey) {
      this.grid = new Float32Array(w * h * 2);
      const cos = Math.cos(radians) / zoom;
      const sin = Math.sin(radians) / zoom;
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          // normalised coordinates of pixel centres, in [-1, 1]
          const nx = ((x + 0.5) / w) * 2 - 1;
          const ny = ((y + 0.5) / h) * 2 - 1;
          const i = (y * w + x) * 2;
          this.grid[i] = cos * nx - sin * ny;
          this.grid[i + 1] = sin * nx + cos * ny;
        }
      }
      this.gridKey = key;
    }
    const out = await this.warper.run({ x: floatTensor(img.data, [1, 3, h, w]), grid: floatTensor(this.grid, [1, h, w, 2]) });
    return { data: out.y!.data as Float32Array, width: w, height: h };
  }

  async dispose(): Promise<void> {
    await Promise.allSettled([this.resizer.release(), this.warper.release()]);
  }
}
