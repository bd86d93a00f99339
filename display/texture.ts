/**
 * Ownership of GPU pictures. three.js frees nothing by itself: a texture holds GPU
 * memory until dispose(), an ImageBitmap holds decoded pixels until close(), and a
 * render target holds both a texture and a framebuffer. Every picture made here has
 * exactly one owner that releases it.
 */
import {
  DataTexture,
  LinearFilter,
  RGBAFormat,
  Texture,
  UnsignedByteType,
  WebGLRenderTarget,
} from 'three';

/** Wraps a decoded frame for upload. The bitmap is already flipped for WebGL (see net.ts). */
export function frameTexture(bitmap: ImageBitmap): Texture {
  const texture = new Texture(bitmap);
  texture.flipY = false;
  // Frames are shown near their own size, so plain linear filtering suffices and the upload stays cheap.
  texture.generateMipmaps = false;
  texture.minFilter = LinearFilter;
  texture.magFilter = LinearFilter;
  texture.needsUpdate = true;
  return texture;
}

/** Frees a frame texture's GPU memory and its decoded pixels. */
export function releaseFrameTexture(texture: Texture): void {
  texture.dispose();
  const image: unknown = texture.image;
  if (typeof ImageBitmap !== 'undefined' && image instanceof ImageBitmap) image.close();
}

/** Opaque black, the picture before the first frame. */
export function blackTexture(): Texture {
  const texture = new DataTexture(new Uint8Array([0, 0, 0, 255]), 1, 1, RGBAFormat, UnsignedByteType);
  texture.needsUpdate = true;
  return texture;
}

/** A render target for a picture: colour only, no mipmaps, linear filtering; sized later with setSize. */
export function pictureTarget(): WebGLRenderTarget {
  return new WebGLRenderTarget(1, 1, { depthBuffer: false, stencilBuffer: false, generateMipmaps: false, minFilter: LinearFilter, magFilter: LinearFilter });
}

/**
 * Two render targets used in turn to freeze "what is on screen now": the newest
 * snapshot is read as the blend's starting picture while the other one is free for
 * the next snapshot (a target cannot be read and written in the same draw).
 */
export class Snapshots {
  private readonly targets: [WebGLRenderTarget, WebGLRenderTarget];
  private next = 0;

  constructor() {
    this.targets = [pictureTarget(), pictureTarget()];
  }

  /** The free target, sized to `width` x `height`; the caller renders into it and then reads it. */
  take(width: number, height: number): WebGLRenderTarget {
    const target = this.targets[this.next]!;
    this.next = 1 - this.next;
    if (target.width !== width || target.height !== height) target.setSize(width, height);
    return target;
  }

  dispose(): void {
    for (const target of this.targets) target.dispose();
  }
}
