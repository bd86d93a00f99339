/**
 * The node's connections to the cluster's Redis (docs/cluster.md): one for commands, one
 * for subscriptions (the state channel and socket.io's adapter share it). Redis going
 * away must never stop a gallery, so nothing here throws or rejects into the void: the
 * clients retry forever with a capped backoff, commands fail fast while Redis is away
 * (the callers keep running on their last state), and the log says once when Redis is
 * lost and once when it is back, with a reminder every half minute in between.
 */
import { createClient } from 'redis';
import { logger } from '../log.js';

const log = logger('cluster');

export type RedisClient = ReturnType<typeof createClient>;

/** Reconnect attempts back off to this, so a Redis that returns is used again within about 2 s. */
const MAX_RECONNECT_MS = 2000;
/** While Redis stays away, the warning is repeated this often (not at every attempt). */
const REMIND_MS = 30_000;

/** The URL as logs may show it: any password replaced. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable Redis URL)';
  }
}

/**
 * Wraps a client so a command promise nobody awaits (socket.io's adapter publishes without
 * a catch) can never become an unhandled rejection that ends the process; callers that do
 * await still see the rejection.
 */
export function guarded<T extends object>(client: T, onError: (err: unknown) => void): T {
  return new Proxy(client, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const result: unknown = (value as (...a: unknown[]) => unknown).apply(target, args);
        if (result instanceof Promise) result.catch(onError);
        return result;
      };
    },
  });
}

export class RedisLink {
  /** Commands fail at once while Redis is away (no offline queue that would replay stale writes later). */
  readonly commands: RedisClient;
  /** Subscriptions; node-redis subscribes again by itself after a reconnect. */
  readonly subscriber: RedisClient;
  private readonly upListeners = new Set<() => void>();
  private readonly downListeners = new Set<() => void>();
  private wasUp = false;
  private lostAt: number | null = null;
  private remindedAt = 0;
  private closed = false;

  constructor(readonly url: string) {
    const socket = {
      connectTimeout: 2000,
      reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, MAX_RECONNECT_MS) * (0.75 + Math.random() * 0.5),
    };
    this.commands = createClient({ url, socket, disableOfflineQueue: true, pingInterval: 5000 });
    this.subscriber = createClient({ url, socket, pingInterval: 5000 });
    for (const client of [this.commands, this.subscriber]) {
      client.on('error', (err: Error) => this.noteError(err));
      client.on('ready', () => this.noteReady());
    }
  }

  /** True while the command connection is ready. */
  get up(): boolean {
    return this.commands.isReady;
  }

  get shownUrl(): string {
    return redactRedisUrl(this.url);
  }

  /** Called whenever a connection becomes ready (at start and after every outage). */
  onUp(listener: () => void): void {
    this.upListeners.add(listener);
  }

  onDown(listener: () => void): void {
    this.downListeners.add(listener);
  }

  /** Starts connecting; resolves at once (Redis may come later: the node runs without it meanwhile). */
  start(): void {
    for (const client of [this.commands, this.subscriber]) {
      client.connect().catch((err: Error) => {
        if (!this.closed) log.error({ err: err.message }, 'Redis client gave up connecting');
      });
    }
    setTimeout(() => {
      if (!this.up && !this.closed && this.lostAt === null) {
        this.lostAt = Date.now();
        this.remindedAt = Date.now();
        log.warn({ redis: this.shownUrl }, `Redis at ${this.shownUrl} is unreachable: running on this node's own state, retrying`);
      }
    }, 3000).unref();
  }

  private noteReady(): void {
    if (!this.commands.isReady || !this.subscriber.isReady) return;
    if (!this.wasUp) log.info({ redis: this.shownUrl }, 'connected to Redis');
    else if (this.lostAt !== null) log.info({ redis: this.shownUrl, downSeconds: Math.round((Date.now() - this.lostAt) / 1000) }, 'Redis is back: rejoining the cluster');
    this.lostAt = null;
    this.wasUp = true;
    for (const listener of this.upListeners) listener();
  }

  private noteError(err: Error): void {
    if (this.closed) return;
    const now = Date.now();
    if (this.lostAt === null) {
      // The first error of an outage; before the first connection, start() says it after a grace period.
      if (!this.wasUp) return;
      this.lostAt = now;
      this.remindedAt = now;
      log.warn({ redis: this.shownUrl, err: err.message }, 'lost Redis: running on the last state, retrying');
      for (const listener of this.downListeners) listener();
      return;
    }
    if (now - this.remindedAt >= REMIND_MS) {
      this.remindedAt = now;
      log.warn({ redis: this.shownUrl, err: err.message, downSeconds: Math.round((now - this.lostAt) / 1000) }, 'still no Redis: running on the last state, retrying');
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([this.commands, this.subscriber].map((client) => (client.isOpen ? client.close() : Promise.resolve())));
    for (const client of [this.commands, this.subscriber]) if (client.isOpen) client.destroy();
  }
}
