/**
 * The display's network side: frames arrive as bytes, leave as decoded ImageBitmaps.
 * The server sends the next frame only after our ack, so we ack once the picture is
 * decoded and handed over, and always ack, even a frame we could not decode; a
 * missing ack would stall the stream.
 */
import { FRAME_MIME, type FrameMeta } from '../common/frame.js';
import type { LiveState } from '../common/state.js';
import { openSocket, type PageSocket } from '../common/socket-client.js';
import { followPeers } from './failover.js';

export interface DisplayNetHandlers {
  /** A decoded frame, oriented for WebGL (bottom row first). The receiver owns the bitmap. */
  frame(meta: FrameMeta, bitmap: ImageBitmap): void;
  connection(connected: boolean): void;
  /** The display's part of the live state (crossfade, blackout, caption), on connect and on every change. */
  look(look: LiveState['display']): void;
  /** The server refused this display (e.g. an unknown wall screen), with its reason; null once connected. */
  refused(reason: string | null): void;
}

/** Decodes a frame into an ImageBitmap flipped for WebGL, which ignores UNPACK_FLIP_Y for bitmaps. */
export function decodeFrame(meta: FrameMeta, image: ArrayBuffer | Uint8Array): Promise<ImageBitmap> {
  const type = FRAME_MIME[meta.format];
  if (!type) return Promise.reject(new Error(`unknown frame format ${JSON.stringify(meta.format)}`));
  // Browsers receive binary as ArrayBuffer; a view (only seen outside browsers) is copied to a plain buffer.
  const bytes = image instanceof Uint8Array ? image.slice() : image;
  return createImageBitmap(new Blob([bytes], { type }), { imageOrientation: 'flipY' });
}

/** `screen`: the wall screen this display shows (`/?screen=NAME`, common/wall.ts), if any. */
export function connectDisplay(handlers: DisplayNetHandlers, screen?: string): PageSocket {
  const socket = openSocket('display', screen ? { screen } : {});
  // In a cluster, move to another node when ours dies, and back (docs/cluster.md).
  followPeers(socket);
  // Counts arrivals locally: the server's frame counter restarts with the server.
  let arrivals = 0;
  let shown = 0;

  socket.on('connect', () => {
    handlers.refused(null);
    handlers.connection(true);
  });
  // `active` false: the server refused the handshake (middleware error), not a network failure.
  socket.on('connect_error', (error) => {
    if (!socket.active) handlers.refused(error.message);
  });
  socket.on('disconnect', () => handlers.connection(false));
  socket.on('state', (state) => handlers.look(state.display));

  socket.on('frame', async (meta, image, ack) => {
    const arrival = ++arrivals;
    try {
      const bitmap = await decodeFrame(meta, image);
      // Newest wins: a slow decode must never replace a newer picture.
      if (arrival < shown || !socket.connected) {
        bitmap.close();
        return;
      }
      shown = arrival;
      handlers.frame(meta, bitmap);
    } catch (error) {
      console.warn('display: skipped frame', meta.frame, error);
    } finally {
      ack();
    }
  });

  return socket;
}
