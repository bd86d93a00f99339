/**
 * Cluster mode in one place (docs/cluster.md), so server/app.ts wires it in a few lines:
 * the Redis connections, the replicated state and presets, the wall-wide tablet turn, the
 * peer list for display failover, the socket.io Redis adapter, the origins other nodes'
 * pages connect from (CORS, CSP), and GET /api/cluster. Nothing here is created when
 * `redisUrl` is "" (a single node).
 */
import { networkInterfaces, hostname } from 'node:os';
import express, { type Router } from 'express';
import { ROOMS, type PeerInfo } from '../../common/protocol.js';
import type { ResolvedConfig } from '../config.js';
import type { PortraitServer } from '../inputs/socket.js';
import { logger } from '../log.js';
import type { Store } from '../store.js';
import { attachRedisAdapter } from './adapter.js';
import { Peers } from './peers.js';
import { RedisLink } from './redis-connection.js';
import { redisTimeSource, type RedisCommander, type TimeSource } from '../wall/clock.js';
import type { PresetStore } from '../presets.js';
import { PresetSync } from './preset-sync.js';
import { SharedTurn } from './shared-turn.js';
import { StateSync, type SyncStatus } from './state-sync.js';

const log = logger('cluster');

export interface ClusterInfo {
  node: string;
  url: string;
  redis: { url: string; up: boolean };
  state: SyncStatus;
  peers: PeerInfo[];
  /** Displays connected here, and on the whole cluster (asked through the Redis adapter; null while Redis is away). */
  displays: { here: number; cluster: number | null };
}

/** This machine's first non-internal IPv4 address: how other machines on the gallery network reach it. */
function lanAddress(): string | null {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const a of addresses ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return null;
}

/** publicUrl's origin, or one derived from the listening address and port. */
export function nodeUrl(config: ResolvedConfig, port: number): string {
  if (config.publicUrl) return new URL(config.publicUrl).origin;
  const wildcard = config.host === '0.0.0.0' || config.host === '::';
  const host = wildcard ? (lanAddress() ?? 'localhost') : config.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

export class Cluster {
  private readonly link: RedisLink;
  private readonly sync: StateSync;
  /** The tablets' turn, one for the whole wall (server/arbitration.ts asks it). */
  readonly turn: SharedTurn;
  /** Redis' clock, the reference of the wall's cluster clock (server/wall/clock.ts). */
  readonly time: TimeSource;
  private presets: PresetSync | null = null;
  private peers: Peers | null = null;
  private io: PortraitServer | null = null;
  private name = '';
  private url = '';

  constructor(
    private readonly config: ResolvedConfig,
    store: Store,
  ) {
    this.link = new RedisLink(config.redisUrl);
    // Registered before anything commits, so no local change escapes replication.
    this.sync = new StateSync(store, this.link, () => this.name);
    this.turn = new SharedTurn(this.link, () => this.name, (config.turnIdleSeconds + 2) * 1000);
    this.time = redisTimeSource(this.link.commands);
  }

  /**
   * For socket.io's `cors`: a display page served by another node connects here when its
   * node dies, and its origin is whatever name the kiosk opened that node by (localhost, an
   * IP, a host name), so any origin is let in. CORS is no boundary for socket.io anyway:
   * WebSocket connections are not subject to it, and roles come from the handshake
   * (admin token or loopback, server/access.ts), never from the page's origin. What a page
   * may connect to is limited on the page's side, by its CSP (`origins()`).
   */
  readonly cors = { origin: true };

  /** Origins of every node seen since start (for CORS and the pages' connect-src). */
  origins(): string[] {
    return this.peers?.origins() ?? [];
  }

  /** Presets saved or deleted on any node are saved or deleted on every node: call before attach(). */
  sharePresets(presets: PresetStore): void {
    this.presets = new PresetSync(presets, this.link);
  }

  /** Attaches the Redis adapter: call right after creating the Server, before clients connect. */
  attach(io: PortraitServer): void {
    this.io = io;
    attachRedisAdapter(io, this.link);
    this.sync.start();
    this.presets?.start();
    this.link.start();
  }

  /** Once the HTTP port is known: joins the peer list and tells displays about it. */
  start(io: PortraitServer, port: number): void {
    this.name = this.config.nodeName || `${hostname()}-${port}`;
    this.url = nodeUrl(this.config, port);
    this.peers = new Peers(this.link, { name: this.name, url: this.url });
    this.peers.onChange((peers) => io.local.to(ROOMS.display).emit('peers', peers));
    io.on('connection', (socket) => {
      if (socket.data.role === 'display' && this.peers) socket.emit('peers', this.peers.peers);
    });
    this.peers.start();
    this.turn.start();
    log.info(
      { cluster: true, redis: this.link.shownUrl, node: this.name, url: this.url, peers: this.peers.peers.map((p) => p.name) },
      `cluster mode: node ${this.name} at ${this.url}, Redis ${this.link.shownUrl}${this.link.up ? '' : ' (not connected yet)'}`,
    );
    // The peers are known after the first heartbeat; say who they are once.
    setTimeout(() => log.info({ node: this.name, peers: this.peers?.peers ?? [] }, `cluster peers: ${(this.peers?.peers ?? []).map((p) => `${p.name} ${p.url}`).join(', ')}`), 2500).unref();
  }

  /** Raw commands on the cluster's Redis (the wall's shared walk anchors, server/wall/anchor-sync.ts). */
  get commander(): RedisCommander {
    return this.link.commands;
  }


  async info(): Promise<ClusterInfo> {
    const here = this.io ? (await this.io.local.in(ROOMS.display).fetchSockets()).length : 0;
    // Every node answers over Redis; while Redis is away the adapter's request fails or times out.
    const cluster = this.io && this.link.up ? await this.io.in(ROOMS.display).fetchSockets().then((s) => s.length, () => null) : null;
    return {
      displays: { here, cluster },
      node: this.name,
      url: this.url,
      redis: { url: this.link.shownUrl, up: this.link.up },
      state: this.sync.status(),
      peers: this.peers?.peers ?? [],
    };
  }

  router(): Router {
    const router = express.Router();
    router.get('/api/cluster', (_req, res, next) => {
      this.info().then((info) => res.json(info), next);
    });
    return router;
  }

  async close(): Promise<void> {
    this.sync.close();
    this.turn.close();
    this.presets?.close();
    await this.peers?.close();
    await this.link.close();
  }
}

/** Logged at every start, cluster or not. */
export function logSingleNode(): void {
  log.info({ cluster: false }, 'cluster mode off (redisUrl is empty): a single node');
}
