/**
 * The stage: one WebGL canvas, one quad, one shader. The shader shows a blend of two
 * pictures, `from` and `to`, times a brightness `dim` (1 = as sent, 0 = black); the quad is scaled so the picture keeps
 * its aspect ratio inside any screen (letterbox or pillarbox, black around it).
 * Colours pass through untouched (no colour-space conversion, no tone mapping): the
 * frames are already display-ready sRGB and a snapshot must copy them bit for bit.
 * When the picture is shown larger than its pixels (a 512 px portrait on a 1080 px
 * screen), the blend is drawn at the picture's own size and enlarged to the screen by the
 * edge-aware passes of display/upscale.ts instead of bilinear filtering.
 */
import { Vector2, WebGLRenderer, type Texture, type WebGLRenderTarget } from 'three';
import { placedQuadVertex, ShaderPass } from './pass.js';
import { pictureTarget } from './texture.js';
import { EdgeAwareUpscaler } from './upscale.js';


const fragmentShader = /* glsl */ `
  uniform sampler2D uFrom;
  uniform sampler2D uTo;
  uniform float uMix;
  uniform float uDim;
  varying vec2 vUv;
  void main() {
    vec3 colour = mix(texture2D(uFrom, vUv).rgb, texture2D(uTo, vUv).rgb, uMix);
    gl_FragColor = vec4(colour * uDim, 1.0);
  }
`;

export interface BlendUniforms {
  uFrom: { value: Texture | null };
  uTo: { value: Texture | null };
  uMix: { value: number };
  uDim: { value: number };
  uScale: { value: Vector2 };
  /** Burn-in drift, in clip-space units (display/drift.ts); never applied to snapshots. */
  uOffset: { value: Vector2 };
}

/** Caps the device pixel ratio: past 2 the picture gains nothing and the fill rate doubles. */
const MAX_PIXEL_RATIO = 2;

export class Stage {
  readonly renderer: WebGLRenderer;
  readonly uniforms: BlendUniforms;
  private readonly blend: ShaderPass;
  private picture = { width: 1, height: 1 };
  /** The blend at the picture's own size, enlarged to the screen by `upscaler`; null: bilinear straight to the screen. */
  private readonly edgeAware: { upscaler: EdgeAwareUpscaler; blended: WebGLRenderTarget } | null;

  /** `edgeAware` false draws with plain bilinear filtering (for comparisons: ?upscale=bilinear). */
  constructor(canvas: HTMLCanvasElement, options: { edgeAware?: boolean } = {}) {
    this.renderer = new WebGLRenderer({ canvas, antialias: false, alpha: false, powerPreference: 'high-performance' });
    this.renderer.setClearColor(0x000000, 1);
    this.uniforms = {
      uFrom: { value: null },
      uTo: { value: null },
      uMix: { value: 1 },
      uDim: { value: 1 },
      uScale: { value: new Vector2(1, 1) },
      uOffset: { value: new Vector2(0, 0) },
    };
    this.blend = new ShaderPass(placedQuadVertex, fragmentShader, { ...this.uniforms });
    this.edgeAware =
      options.edgeAware === false
        ? null
        : {
            upscaler: new EdgeAwareUpscaler(),
            blended: pictureTarget(),
          };
    this.resize();
  }

  /** Follows the window; call on resize. */
  resize(): void {
    this.renderer.setPixelRatio(Math.min(window.devicePixelRatio || 1, MAX_PIXEL_RATIO));
    this.renderer.setSize(window.innerWidth, window.innerHeight, false);
  }

  /** Shifts the picture on screen by (x, y) CSS pixels, y downwards (burn-in drift); sub-pixel shifts are filtered smoothly. */
  setOffset(x: number, y: number): void {
    const w = Math.max(1, window.innerWidth);
    const h = Math.max(1, window.innerHeight);
    this.uniforms.uOffset.value.set((2 * x) / w, (-2 * y) / h);
  }

  /** The newest frame's size in pixels: its aspect ratio fits the quad, its size decides whether to enlarge edge-aware. */
  setPictureSize(width: number, height: number): void {
    if (Number.isFinite(width) && Number.isFinite(height) && width > 0 && height > 0) this.picture = { width, height };
  }

  /** Sends a texture to the GPU now rather than at the next draw, so "decoded and uploaded" is true when we ack. */
  upload(texture: Texture): void {
    this.renderer.initTexture(texture);
  }

  /** Draws the blend to the screen, fitted inside it. */
  render(): void {
    const size = this.renderer.getDrawingBufferSize(new Vector2());
    const screenAspect = size.x / Math.max(1, size.y);
    const pictureAspect = this.picture.width / this.picture.height;
    const scale = this.uniforms.uScale.value;
    if (pictureAspect > screenAspect) scale.set(1, screenAspect / pictureAspect);
    else scale.set(pictureAspect / screenAspect, 1);
    const onScreen = { width: Math.round(scale.x * size.x), height: Math.round(scale.y * size.y) };
    if (this.edgeAware && onScreen.width > this.picture.width) {
      const { blended, upscaler } = this.edgeAware;
      if (blended.width !== this.picture.width || blended.height !== this.picture.height) blended.setSize(this.picture.width, this.picture.height);
      const dim = this.uniforms.uDim.value;
      this.renderInto(blended);
      upscaler.draw(this.renderer, blended.texture, this.picture.width, this.picture.height, onScreen.width, onScreen.height, { scale, offset: this.uniforms.uOffset.value, dim });
      return;
    }
    this.blend.draw(this.renderer, null);
  }

  /**
   * Draws the blend as it is right now, unscaled and at full brightness, into `target`:
   * the frozen "from" picture for the next blend. Brightness stays out of snapshots so
   * a dimmed screen can brighten again without the old picture staying dark.
   */
  renderInto(target: WebGLRenderTarget): void {
    const dim = this.uniforms.uDim.value;
    const offset = this.uniforms.uOffset.value.clone();
    const scale = this.uniforms.uScale.value.clone();
    this.uniforms.uDim.value = 1;
    this.uniforms.uScale.value.set(1, 1);
    this.uniforms.uOffset.value.set(0, 0);
    this.blend.draw(this.renderer, target);
    this.renderer.setRenderTarget(null);
    this.uniforms.uDim.value = dim;
    this.uniforms.uOffset.value.copy(offset);
    this.uniforms.uScale.value.copy(scale);
  }

  dispose(): void {
    this.blend.dispose();
    this.edgeAware?.upscaler.dispose();
    this.edgeAware?.blended.dispose();
    this.renderer.dispose();
  }
}
