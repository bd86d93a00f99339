/**
 * Display failover in a cluster (docs/cluster.md). The server tells its displays the live
 * nodes ('peers'). When this page's own node has been unreachable for a couple of seconds,
 * the socket's next reconnect attempt goes to the next node in turn, and so on round the
 * list (including home again); once connected elsewhere, the page checks every few
 * seconds whether its own node is back and, if so, returns to it. The socket object stays
 * the same, so every listener, the handshake's auth (the wall screen) and the page's own
 * URL (`?screen=NAME`) carry over; only the address the manager dials changes.
 * Outside a cluster no 'peers' arrive and nothing here ever acts.
 */
import type { PeerInfo } from '../common/protocol.js';
import type { PageSocket } from '../common/socket-client.js';

/** Unreachable for this long before trying the next node: longer than a restart's first retries, short enough for a gallery. */
export const SWITCH_AFTER_MS = 2000;
/** While on another node, how often to check whether home is back. */
export const HOME_PROBE_MS = 5000;
const TICK_MS = 250;

/**
 * socket.io-client's Manager dials `this.uri` at every (re)connect attempt (socket.io-client
 * 4.x, manager.js `open()`); it has no public setter, so this is the one place that writes
 * it. test/integration/cluster-failover.test.ts fails if a new version stops honouring it.
 */
function dial(socket: PageSocket, origin: string): void {
  (socket.io as unknown as { uri: string }).uri = origin;
}

function originOf(url: string): string | null {
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
}

export interface Failover {
  /** The origin the socket dials now. */
  readonly target: string;
  stop(): void;
}

export function followPeers(socket: PageSocket, home: string = location.origin): Failover {
  let others: string[] = [];
  let target = home;
  let unreachableSince: number | null = socket.connected ? null : performance.now();
  let lastProbe = 0;
  let probing = false;

  // Home may announce itself under another name than the page was opened by (an IP for localhost).
  const homeNames = new Set([home]);
  socket.on('peers', (peers: PeerInfo[]) => {
    // A node lists itself first: from home, that is home's announced address.
    const self = peers[0] ? originOf(peers[0].url) : null;
    if (target === home && self) homeNames.add(self);
    const origins = peers.map((p) => originOf(p.url)).filter((o): o is string => o !== null && !homeNames.has(o));
    others = [...new Set(origins)];
  });
  socket.on('connect', () => {
    unreachableSince = null;
  });
  socket.on('disconnect', () => {
    unreachableSince ??= performance.now();
  });

  const switchTo = (origin: string) => {
    if (origin === target) return;
    console.info(`display: ${origin === home ? 'back to its own node' : 'failing over to'} ${origin}`);
    target = origin;
    // The first look for home comes a full interval after leaving it.
    lastProbe = performance.now();
    dial(socket, origin);
  };

  const tick = () => {
    const now = performance.now();
    if (!socket.connected) {
      unreachableSince ??= now;
      if (others.length > 0 && now - unreachableSince >= SWITCH_AFTER_MS) {
        const ring = [home, ...others];
        switchTo(ring[(ring.indexOf(target) + 1) % ring.length]!);
        unreachableSince = now;
        // Dial now rather than after the rest of the manager's backoff (up to 1 s).
        socket.disconnect().connect();
      }
      return;
    }
    if (target === home || probing || now - lastProbe < HOME_PROBE_MS) return;
    lastProbe = now;
    probing = true;
    // Same origin as the page, so the content-security policy allows it.
    fetch(`${home}/health`, { cache: 'no-store', signal: AbortSignal.timeout(2000) })
      .then((res) => {
        if (!res.ok || target === home) return;
        switchTo(home);
        // A quick hop: the picture stays up, the next frame comes from home.
        socket.disconnect().connect();
      })
      .catch(() => {
        // home still away: stay where we are
      })
      .finally(() => (probing = false));
  };
  const timer = setInterval(tick, TICK_MS);

  return {
    get target() {
      return target;
    },
    stop() {
      clearInterval(timer);
    },
  };
}
