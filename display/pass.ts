/**
 * One shader drawn over one quad: the building block of the display's drawing (the blend in
 * scene.ts, the enlargement passes in upscale.ts). A pass owns its material, quad and scene
 * and draws to the screen or into a render target.
 */
import { Mesh, OrthographicCamera, PlaneGeometry, Scene, ShaderMaterial, type IUniform, type WebGLRenderer, type WebGLRenderTarget } from 'three';

/** Draws the quad over the whole target. */
export const fullQuadVertex = /* glsl */ `
  varying vec2 vUv;
  void main() {
    vUv = uv;
    gl_Position = vec4(position.xy, 0.0, 1.0);
  }
`;

/** Draws the quad scaled (the picture fitted inside the screen) and shifted (burn-in drift), in clip space. */
export const placedQuadVertex = /* glsl */ `
  uniform vec2 uScale;
  uniform vec2 uOffset;
  varying vec2 vUv;
  void main() {
    vUv = uv;
    gl_Position = vec4(position.xy * uScale + uOffset, 0.0, 1.0);
  }
`;

/** Every pass covers clip space [-1, 1]: one camera serves them all. */
const camera = new OrthographicCamera(-1, 1, 1, -1, 0, 1);

export class ShaderPass {
  readonly material: ShaderMaterial;
  private readonly geometry = new PlaneGeometry(2, 2);
  private readonly scene = new Scene();

  constructor(vertexShader: string, fragmentShader: string, uniforms: Record<string, IUniform>) {
    this.material = new ShaderMaterial({ uniforms, vertexShader, fragmentShader, depthTest: false, depthWrite: false });
    const mesh = new Mesh(this.geometry, this.material);
    mesh.frustumCulled = false;
    this.scene.add(mesh);
  }

  /** Draws into `target`, or to the screen when it is null. */
  draw(renderer: WebGLRenderer, target: WebGLRenderTarget | null): void {
    renderer.setRenderTarget(target);
    renderer.render(this.scene, camera);
  }

  dispose(): void {
    this.material.dispose();
    this.geometry.dispose();
  }
}
