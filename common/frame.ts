/** What travels with every frame: enough to say which face it is and when it was made. */
export interface FrameMeta {
  /** Counts frames since the server started. */
  frame: number;
  /** Server clock (ms since epoch) when the frame's latent was chosen. */
  serverTime: number;
  /** The live-state version the frame reflects (for input-to-screen latency). */
  stateVersion: number;
  mode: string;
  /** The two seeds the latent lies between and how far along, 0..1. */
  seeds: [number, number];
  t: number;
  width: number;
  height: number;
  format: 'jpeg';
  /** Set when a dream pass painted this frame. */
  dream?: { mode: string; style: string };
  /** Set when the face stage lifted this frame: the face model's id. */
  face?: string;
  /** Milliseconds per stage for this frame. */
  timings: Record<string, number>;
  /** The upscale passes this frame got ('off', 'x2', 'x4', ...): what upscale.mode 'auto' chose. */
  upscale?: string;
  /** Video walls (common/wall.ts): the screen this frame is for (absent: every display of the node). */
  screen?: string;
  /** Video walls: the frame's slot on the cluster clock (slot x period = when it was due). */
  slot?: number;
  /** Video walls: cluster time (ms) at which every display shows this frame, so the screens change together. */
  presentAt?: number;
  /** The latent itself, only when the server runs with `debugFrameLatent` (tests measure glides with it). */
  latent?: number[];
}

export const FRAME_MIME = { jpeg: 'image/jpeg' } as const;
