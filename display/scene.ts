/**
 * The stage: one WebGL canvas, one quad, one shader. The shader shows a blend of two
 * pictures, `from` and `to`, times a brightness `dim` (1 = as sent, 0 = black); the quad is scaled so the picture keeps
 * its aspect ratio inside any screen (letterbox or pillarbox, black around it).
 * Colours pass through untouched (no colour-space conversion, no tone mapping): the
 * frames are already display-ready sRGB and a snapshot must copy them bit for bit.
 */
import {
  Mesh,
  OrthographicCamera,
  PlaneGeometry,
  Scene,
  ShaderMaterial,
  Vector2,
  WebGLRenderer,
  type Texture,
  type WebGLRenderTarget,
} from 'three';

const vertexShader = /* glsl */ `
  uniform vec2 uScale;
  uniform vec2 uOffset;
  varying vec2 vUv;
  void main() {
    vUv = uv;
    gl_Position = vec4(position.xy * uScale + uOffset, 0.0, 1.0);
  }
`;

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
  private readonly scene = new Scene();
  private readonly camera = new OrthographicCamera(-1, 1, 1, -1, 0, 1);
  private readonly geometry = new PlaneGeometry(2, 2);
  private readonly material: ShaderMaterial;
  private pictureAspect = 1;

  constructor(canvas: HTMLCanvasElement) {
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
    this.material = new ShaderMaterial({ uniforms: { ...this.uniforms }, vertexShader, fragmentShader, depthTest: false, depthWrite: false });
    const quad = new Mesh(this.geometry, this.material);
    quad.frustumCulled = false;
    this.scene.add(quad);
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

  setPictureAspect(aspect: number): void {
    if (Number.isFinite(aspect) && aspect > 0) this.pictureAspect = aspect;
  }

  /** Sends a texture to the GPU now rather than at the next draw, so "decoded and uploaded" is true when we ack. */
  upload(texture: Texture): void {
    this.renderer.initTexture(texture);
  }

  /** Draws the blend to the screen, fitted inside it. */
  render(): void {
    const size = this.renderer.getDrawingBufferSize(new Vector2());
    const screenAspect = size.x / Math.max(1, size.y);
    const scale = this.uniforms.uScale.value;
    if (this.pictureAspect > screenAspect) scale.set(1, screenAspect / this.pictureAspect);
    else scale.set(this.pictureAspect / screenAspect, 1);
    this.renderer.setRenderTarget(null);
    this.renderer.render(this.scene, this.camera);
  }

  /**
   * Draws the blend as it is right now, unscaled and at full brightness, into `target`:
   * the frozen "from" picture for the next blend. Brightness stays out of snapshots so
   * a dimmed screen can brighten again without the old picture staying dark.
   */
  renderInto(target: WebGLRenderTarget): void {
    const dim = this.uniforms.uDim.value;
    const offset = this.uniforms.uOffset.value.clone();
    this.uniforms.uDim.value = 1;
    this.uniforms.uScale.value.set(1, 1);
    this.uniforms.uOffset.value.set(0, 0);
    this.renderer.setRenderTarget(target);
    this.renderer.render(this.scene, this.camera);
    this.renderer.setRenderTarget(null);
    this.uniforms.uDim.value = dim;
    this.uniforms.uOffset.value.copy(offset);
  }

  dispose(): void {
    this.geometry.dispose();
    this.material.dispose();
    this.renderer.dispose();
  }
}
