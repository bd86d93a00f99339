/**
 * The display's sign of life for the server's /health: every few seconds, how often the
 * page drew, how many frames arrived, and which GPU adapter WebGL runs on, so the
 * technician learns about a hung page or a software-rendered screen without walking
 * up to it. Sent on every (re)connect too, so a restarted server knows at once.
 */
import type { Heartbeat } from '../common/protocol.js';
import type { PageSocket } from '../common/socket-client.js';

export const HEARTBEAT_MS = 5000;

/** The adapter's real name (e.g. "ANGLE (Intel, Mesa Intel(R) UHD Graphics ...)" or "SwiftShader ..."). */
export function gpuRenderer(gl: WebGLRenderingContext | WebGL2RenderingContext): string {
  const info = gl.getExtension('WEBGL_debug_renderer_info');
  return String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER)).slice(0, 256);
}

/** Starts the heartbeats; `draws()` is the draw loop's counter. Returns a stop function. */
export function sendHeartbeats(socket: PageSocket, gl: WebGLRenderingContext | WebGL2RenderingContext, draws: () => number): () => void {
  const screen = () => ({ width: Math.max(1, gl.drawingBufferWidth), height: Math.max(1, gl.drawingBufferHeight) });
  const renderer = gpuRenderer(gl);
  let frames = 0;
  socket.on('frame', () => {
    frames++;
  });
  let lastDraws = draws();
  let lastAt = performance.now();
  const beat = () => {
    if (!socket.connected) return;
    const now = performance.now();
    const drawn = draws();
    const fps = ((drawn - lastDraws) * 1000) / Math.max(1, now - lastAt);
    lastDraws = drawn;
    lastAt = now;
    const heartbeat: Heartbeat = { fps: Math.min(1000, Math.round(fps * 10) / 10), frames, renderer, screen: screen() };
    socket.emit('heartbeat', heartbeat);
  };
  socket.on('connect', beat);
  const timer = setInterval(beat, HEARTBEAT_MS);
  return () => {
    clearInterval(timer);
    socket.off('connect', beat);
  };
}
