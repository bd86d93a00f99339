/**
 * Connected displays and how frames reach them. Each display acknowledges a frame once
 * it has decoded it; until then newer frames replace each other in a one-slot mailbox,
 * so a slow display always gets the newest frame and never a growing queue.
 * On a video wall each display names its screen, and a frame made for one screen
 * (meta.screen) goes only to that screen's displays.
 */
import type { Socket } from 'socket.io';
import type { ClientToServerEvents, ServerToClientEvents } from '../common/protocol.js';
import type { FrameMeta } from '../common/frame.js';

type DisplaySocket = Socket<ClientToServerEvents, ServerToClientEvents>;

/** A display that has not acknowledged within this time is sent the newest frame anyway. */
const ACK_TIMEOUT_MS = 3000;

interface Pending {
  meta: FrameMeta;
  image: Buffer;
}

class DisplayLink {
  inFlight = false;
  pending: Pending | null = null;
  sent = 0;
  dropped = 0;

  constructor(
    readonly socket: DisplaySocket,
    readonly screen: string | undefined,
  ) {}

  offer(frame: Pending): void {
    if (this.inFlight) {
      if (this.pending) this.dropped += 1;
      this.pending = frame;
      return;
    }
    this.send(frame);
  }

  private send(frame: Pending): void {
    this.inFlight = true;
    this.sent += 1;
    this.socket.timeout(ACK_TIMEOUT_MS).emit('frame', frame.meta, frame.image, () => {
      this.inFlight = false;
      const next = this.pending;
      this.pending = null;
      if (next && this.socket.connected) this.send(next);
    });
  }
}

export class DisplayHub {
  private readonly links = new Map<string, DisplayLink>();

  /** `screen`: the wall screen the display shows (common/wall.ts); undefined outside walls. */
  add(socket: DisplaySocket, screen?: string): void {
    this.links.set(socket.id, new DisplayLink(socket, screen));
  }

  remove(socket: DisplaySocket): void {
    this.links.delete(socket.id);
  }

  get count(): number {
    return this.links.size;
  }

  /** The distinct screens connected displays show, in order of arrival (one frame each per slot). */
  screens(): string[] {
    const names = new Set<string>();
    for (const link of this.links.values()) if (link.screen !== undefined) names.add(link.screen);
    return [...names];
  }

  /** To every display, or only to meta.screen's displays when the frame was made for one screen. */
  broadcast(meta: FrameMeta, image: Buffer): void {
    for (const link of this.links.values()) if (meta.screen === undefined || link.screen === meta.screen) link.offer({ meta, image });
  }

  stats(): { id: string; sent: number; dropped: number }[] {
    return [...this.links.values()].map((l) => ({ id: l.socket.id, sent: l.sent, dropped: l.dropped }));
  }
}
