/**
 * Edge-aware enlargement of the portrait to the screen, in the spirit of AMD FSR 1: an
 * edge-adaptive resampling pass (like EASU) from the frame's pixels to the picture's size
 * on screen, then a contrast-limited sharpening pass (like RCAS) as it is drawn. Bilinear
 * filtering of a 256-512 px face stretched over a 1080 px screen smears every edge over
 * 3-4 screen pixels; these two passes keep eyelids, lips and hair strands crisp without
 * ringing, at the cost of two extra full-screen draws (trivial for any GPU that drives a
 * gallery screen).
 *
 * The formulas are this project's own, written from the idea of the two passes:
 * - resample: a 4x4 neighbourhood; the luma gradient of the four nearest texels (weighted
 *   by position) gives an edge direction and an edge strength (normalised by the local
 *   contrast, so faint and strong edges are treated alike). The kernel is Lanczos-2, its
 *   negative lobe faded out on flat areas, stretched along the edge and narrowed across it
 *   as the edge grows clearer; the result is clamped to the four nearest texels'
 *   range, so a negative lobe can never ring.
 * - sharpen: out = (c + l (n + s + e + w)) / (1 + 4 l) with the lobe l < 0 chosen, per
 *   pixel, as large as keeps every channel inside its cross neighbourhood's min and max
 *   (solved in closed form), capped by the sharpness.
 */
import { Vector2, type Texture, type WebGLRenderer } from 'three';
import { fullQuadVertex, placedQuadVertex, ShaderPass } from './pass.js';
import { pictureTarget } from './texture.js';


const resampleFragment = /* glsl */ `
  uniform sampler2D uSource;
  uniform vec2 uSourceSize;
  varying vec2 vUv;

  float luma(vec3 c) { return dot(c, vec3(0.299, 0.587, 0.114)); }

  vec3 texel(vec2 ij) {
    ij = clamp(ij, vec2(0.0), uSourceSize - 1.0);
    return texture2D(uSource, (ij + 0.5) / uSourceSize).rgb;
  }

  float lanczos2(float r) {
    if (r >= 2.0) return 0.0;
    if (r < 1e-4) return 1.0;
    float a = 3.14159265 * r;
    return 2.0 * sin(a) * sin(0.5 * a) / (a * a);
  }

  void main() {
    vec2 p = vUv * uSourceSize - 0.5;
    vec2 f = floor(p);
    vec2 t = p - f;

    vec3 c[16];
    float l[16];
    float lo = 1.0;
    float hi = 0.0;
    for (int y = 0; y < 4; y++) {
      for (int x = 0; x < 4; x++) {
        vec3 v = texel(f + vec2(float(x - 1), float(y - 1)));
        c[y * 4 + x] = v;
        l[y * 4 + x] = luma(v);
        lo = min(lo, l[y * 4 + x]);
        hi = max(hi, l[y * 4 + x]);
      }
    }

    // Luma gradients (central differences) at the four nearest texels, weighted by where p lies between them.
    vec2 g00 = vec2(l[6] - l[4], l[9] - l[1]);
    vec2 g10 = vec2(l[7] - l[5], l[10] - l[2]);
    vec2 g01 = vec2(l[10] - l[8], l[13] - l[5]);
    vec2 g11 = vec2(l[11] - l[9], l[14] - l[6]);
    vec2 grad = (1.0 - t.x) * (1.0 - t.y) * g00 + t.x * (1.0 - t.y) * g10 + (1.0 - t.x) * t.y * g01 + t.x * t.y * g11;
    float strength = length(grad);
    // A clean edge has a gradient near twice the local contrast (central differences span two texels).
    float edge = clamp(strength / (2.0 * (hi - lo) + 1.0 / 255.0), 0.0, 1.0);
    edge = edge * edge * (3.0 - 2.0 * edge);
    vec2 across = strength > 1e-5 ? grad / strength : vec2(1.0, 0.0);
    vec2 along = vec2(-across.y, across.x);
    float squeezeAcross = 1.0 + 0.6 * edge;
    float stretchAlong = 1.0 - 0.45 * edge;

    vec3 sum = vec3(0.0);
    float weights = 0.0;
    for (int y = 0; y < 4; y++) {
      for (int x = 0; x < 4; x++) {
        vec2 o = vec2(float(x - 1), float(y - 1)) - t;
        vec2 q = vec2(dot(o, across) * squeezeAcross, dot(o, along) * stretchAlong);
        float r = length(q);
        // Flat areas get Lanczos without its negative lobe (skin noise is not sharpened into grain); edges get all of it.
        float k = lanczos2(r);
        float w = mix(max(k, 0.0), k, edge);
        sum += w * c[y * 4 + x];
        weights += w;
      }
    }
    vec3 colour = sum / weights;
    vec3 nearLo = min(min(c[5], c[6]), min(c[9], c[10]));
    vec3 nearHi = max(max(c[5], c[6]), max(c[9], c[10]));
    gl_FragColor = vec4(clamp(colour, nearLo, nearHi), 1.0);
  }
`;


const sharpenFragment = /* glsl */ `
  uniform sampler2D uSource;
  uniform vec2 uSourceSize;
  uniform float uSharpness;
  uniform float uDim;
  varying vec2 vUv;

  void main() {
    vec2 px = 1.0 / uSourceSize;
    vec3 c = texture2D(uSource, vUv).rgb;
    vec3 n = texture2D(uSource, vUv - vec2(0.0, px.y)).rgb;
    vec3 s = texture2D(uSource, vUv + vec2(0.0, px.y)).rgb;
    vec3 w = texture2D(uSource, vUv - vec2(px.x, 0.0)).rgb;
    vec3 e = texture2D(uSource, vUv + vec2(px.x, 0.0)).rgb;
    vec3 mn = min(c, min(min(n, s), min(w, e)));
    vec3 mx = max(c, max(max(n, s), max(w, e)));
    vec3 ring = n + s + w + e;
    // The largest -l that keeps every channel of the result inside [mn, mx].
    vec3 belowRoom = (c - mn) / max(ring - 4.0 * mn, vec3(1e-5));
    vec3 aboveRoom = (mx - c) / max(4.0 * mx - ring, vec3(1e-5));
    vec3 room = min(belowRoom, aboveRoom);
    float lobe = -min(min(room.r, min(room.g, room.b)), 0.1875 * uSharpness);
    vec3 colour = (c + lobe * ring) / (1.0 + 4.0 * lobe);
    gl_FragColor = vec4(clamp(colour, 0.0, 1.0) * uDim, 1.0);
  }
`;

export interface OnScreen {
  /** Picture quad scale and offset in clip space, and brightness, as the blend would use them. */
  scale: Vector2;
  offset: Vector2;
  dim: number;
}

/** Sharpness of the second pass, 0..1 (1: the strongest lobe the contrast limit allows). */
export const DEFAULT_SHARPNESS = 0.8;

export class EdgeAwareUpscaler {
  private readonly enlarged = pictureTarget();
  private readonly resample: ShaderPass;
  private readonly sharpen: ShaderPass;

  constructor(sharpness = DEFAULT_SHARPNESS) {
    this.resample = new ShaderPass(fullQuadVertex, resampleFragment, { uSource: { value: null }, uSourceSize: { value: new Vector2(1, 1) } });
    this.sharpen = new ShaderPass(
      placedQuadVertex,
      sharpenFragment,
      { uSource: { value: this.enlarged.texture }, uSourceSize: { value: new Vector2(1, 1) }, uSharpness: { value: sharpness }, uScale: { value: new Vector2(1, 1) }, uOffset: { value: new Vector2() }, uDim: { value: 1 } },
    );
  }

  /**
   * Draws `source` (`sourceWidth` x `sourceHeight` texels) to the screen, enlarged to
   * `width` x `height` drawing-buffer pixels and placed as `onScreen` says.
   */
  draw(renderer: WebGLRenderer, source: Texture, sourceWidth: number, sourceHeight: number, width: number, height: number, onScreen: OnScreen): void {
    if (this.enlarged.width !== width || this.enlarged.height !== height) this.enlarged.setSize(width, height);
    const r = this.resample.material.uniforms;
    r.uSource!.value = source;
    (r.uSourceSize!.value as Vector2).set(sourceWidth, sourceHeight);
    this.resample.draw(renderer, this.enlarged);
    const s = this.sharpen.material.uniforms;
    (s.uSourceSize!.value as Vector2).set(width, height);
    (s.uScale!.value as Vector2).copy(onScreen.scale);
    (s.uOffset!.value as Vector2).copy(onScreen.offset);
    s.uDim!.value = onScreen.dim;
    this.sharpen.draw(renderer, null);
  }

  dispose(): void {
    this.resample.dispose();
    this.sharpen.dispose();
    this.enlarged.dispose();
  }
}
