/**
 * The HTTP side's armour: security headers and a content-security policy the pages work
 * with, a cap on request bodies, per-address rate limits, server timeouts against slow
 * clients, errors without stack traces, and the admin check for the routes that need it
 * (roles: server/access.ts). Everything here is a well-kept library (helmet,
 * express-rate-limit) configured for this installation.
 */
import type { Server } from 'node:http';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import helmet from 'helmet';
import { MemoryStore, rateLimit } from 'express-rate-limit';
import { refusal, type Refusal, type RefusalCode } from '../../common/protocol.js';
import { ADMIN_REQUIRED, decideAccess, type Access, type AccessPolicy } from '../access.js';
import { logger } from '../log.js';

const log = logger('http');

/** Bodies larger than this are refused before they are read (the JSON API needs 16 KB at most). */
export const MAX_BODY_BYTES = 64 * 1024;

/** After this many wrong admin tokens from one address in the window, it is refused for the rest of the window. */
export const AUTH_FAILURE_LIMIT = 20;
export const AUTH_FAILURE_WINDOW_MS = 15 * 60 * 1000;

/**
 * Same-origin everything. The display draws with three.js (WebGL needs no CSP source)
 * and decodes frames with createImageBitmap(Blob); socket.io connects to the page's own
 * origin ('self' covers ws: on the same host in CSP 3 browsers). 'wasm-unsafe-eval' lets
 * onnxruntime-web compile its WebAssembly without allowing eval(); workers may come from
 * blob: URLs as onnxruntime-web makes them. No upgrade-insecure-requests: the gallery
 * network serves plain http, and upgrading would break every request.
 */
export const CONTENT_SECURITY_POLICY = Object.freeze({
  'default-src': ["'self'"],
  'script-src': ["'self'", "'wasm-unsafe-eval'"],
  'script-src-attr': ["'none'"],
  'style-src': ["'self'"],
  'img-src': ["'self'", 'data:', 'blob:'],
  'font-src': ["'self'"],
  'connect-src': ["'self'"],
  'worker-src': ["'self'", 'blob:'],
  'media-src': ["'self'", 'blob:'],
  'object-src': ["'none'"],
  'base-uri': ["'self'"],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
  'upgrade-insecure-requests': null,
});

/**
 * `peerOrigins`, in cluster mode: the other nodes' origins (http://host:port), which a display
 * page may connect to when its own node dies (docs/cluster.md); read at every page load.
 */
export function securityHeaders(peerOrigins?: () => readonly string[]): RequestHandler {
  const connect = peerOrigins ? { 'connect-src': ["'self'", () => peerOrigins().flatMap((o) => [o, o.replace(/^http/, 'ws')]).join(' ') || "'self'"] } : {};
  return helmet({
    contentSecurityPolicy: { useDefaults: false, directives: { ...CONTENT_SECURITY_POLICY, ...connect } },
    // Plain http on a local network: HSTS would only matter (and then harm) once someone adds TLS by hand.
    strictTransportSecurity: false,
  });
}

/** Slow or silent clients are cut off instead of holding a connection (and a file descriptor) for minutes. */
export function hardenServer(server: Server): void {
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 5_000;
  server.maxHeadersCount = 100;
}

/** The HTTP status of each refusal code (common/protocol.ts): a client may act on either. */
export const REFUSAL_STATUS: Readonly<Record<RefusalCode, number>> = Object.freeze({
  invalid: 400,
  'not-your-turn': 409,
  locked: 409,
  'rate-limited': 429,
  'needs-admin': 401,
  forbidden: 403,
  'not-found': 404,
  full: 409,
  'too-large': 413,
  unavailable: 501,
  failed: 500,
});

/** Answers a refusal: its code's status (401 with the Bearer challenge) and the refusal as the body. */
export function sendRefusal(res: Response, refused: Refusal): void {
  const status = REFUSAL_STATUS[refused.code];
  if (status === 401) res.set('WWW-Authenticate', 'Bearer realm="portraits"');
  res.status(status).json(refused);
}

/**
 * Refuses a declared body over the cap with 413 and closes the connection rather than reading it.
 * `larger` raises the cap for paths under a prefix (picture uploads); the route's own parser holds that one.
 */
export function bodyLimit(max = MAX_BODY_BYTES, larger: Readonly<Record<string, number>> = {}): RequestHandler {
  return (req, res, next) => {
    const length = Number(req.headers['content-length'] ?? 0);
    const cap = Object.entries(larger).find(([prefix]) => req.path.startsWith(prefix))?.[1] ?? max;
    if (!(length > cap)) return next();
    res.set('Connection', 'close');
    sendRefusal(res, refusal('too-large', `request body is ${length} bytes; at most ${cap}`));
  };
}

/** Wrong admin tokens per address, in express-rate-limit's own store (shared by HTTP and socket.io). */
export class AuthFailures {
  private readonly store = new MemoryStore();

  constructor(windowMs = AUTH_FAILURE_WINDOW_MS) {
    this.store.init({ windowMs } as Parameters<MemoryStore['init']>[0]);
  }

  async note(address: string): Promise<void> {
    const { totalHits } = await this.store.increment(address);
    if (totalHits === AUTH_FAILURE_LIMIT) log.warn({ address, failures: totalHits }, 'too many wrong admin tokens; refusing this address for a while');
  }

  async blocked(address: string): Promise<boolean> {
    return ((await this.store.get(address))?.totalHits ?? 0) >= AUTH_FAILURE_LIMIT;
  }

  close(): void {
    this.store.shutdown();
  }
}

/** The admin token from `Authorization: Bearer <token>` (any other Authorization value counts as a wrong token). */
function presentedToken(req: Request): string | undefined {
  const header = req.get('authorization');
  if (header === undefined) return undefined;
  return /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1] ?? header;
}

/** Roles for HTTP requests; answers 401/403/429 itself when a request may not go on. */
export class HttpAccess {
  constructor(
    private readonly policy: AccessPolicy,
    private readonly failures: AuthFailures,
  ) {}

  /** The caller's role, or null after answering a wrong token (403) or a blocked address (429). */
  async who(req: Request, res: Response): Promise<Access | null> {
    const address = req.socket.remoteAddress ?? '';
    const token = presentedToken(req);
    if (token !== undefined && (await this.failures.blocked(address))) {
      sendRefusal(res, refusal('rate-limited', 'too many wrong admin tokens from this address; try again later'));
      return null;
    }
    const access = decideAccess(this.policy, address, token);
    if (typeof access === 'string') return access;
    await this.failures.note(address);
    sendRefusal(res, access);
    return null;
  }

  /** 401 with the challenge header: the request needs the VJ/administrator. */
  needAdmin(res: Response): void {
    sendRefusal(res, refusal('needs-admin', ADMIN_REQUIRED));
  }

  /** Middleware for routes only the VJ/administrator may use. */
  readonly adminOnly: RequestHandler = (req, res, next) => {
    this.who(req, res).then((access) => {
      if (access === 'admin') return next();
      if (access === 'visitor') this.needAdmin(res);
    }, next);
  };
}

/** Per-address request limit over a minute; 0 turns it off. Its store is released by close(). */
export function requestRateLimit(perMinute: number): { middleware: RequestHandler; close(): void } {
  if (perMinute <= 0) return { middleware: (_req, _res, next) => next(), close: () => {} };
  const store = new MemoryStore();
  const middleware = rateLimit({
    windowMs: 60_000,
    limit: perMinute,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    store,
    // No proxy sits in front of the installation: a client's X-Forwarded-For is not trusted, and not worth a log line.
    validate: { xForwardedForHeader: false },
    handler: (_req, res) => {
      sendRefusal(res, refusal('rate-limited', `too many requests: at most ${perMinute} a minute from one address`));
    },
  });
  return { middleware, close: () => store.shutdown() };
}

/** The last handlers: unknown paths and errors answer briefly, never with a stack trace. */
export function notFound(_req: Request, res: Response): void {
  res.status(404).type('text/plain').send('Not found');
}

export function errorHandler(err: Error & { status?: number; statusCode?: number }, _req: Request, res: Response, next: NextFunction): void {
  if (res.headersSent) return next(err);
  const status = err.status ?? err.statusCode ?? 500;
  if (status >= 500) log.error({ err: err.stack }, 'HTTP request failed');
  // The error's own status (a 415 stays a 415); its code is the nearest refusal code.
  if (status >= 500 || status < 400) return void res.status(status >= 500 && status < 600 ? status : 500).json(refusal('failed', 'internal error'));
  res.status(status).json(refusal(status === 413 ? 'too-large' : status === 404 ? 'not-found' : status === 429 ? 'rate-limited' : 'invalid', err.message));
}
