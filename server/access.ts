/**
 * Who may do what. Two roles:
 * - visitors (the tablets, and anyone else on the network) steer the face: new face,
 *   walk, plane, seed, glide, dream; they may list and load presets;
 * - the VJ/administrator also runs the room (the VJ_ONLY_KEYS of common/protocol.ts:
 *   display, loop, visitorLock, modulation) and saves, overwrites and deletes presets.
 * Admin is proven by the configured `adminToken`; when none is configured, by
 * connecting from this machine (loopback). OSC is the VJ's surface and is admitted by
 * host instead (oscAllow, default this machine only). Logs are never served: reading
 * them needs a shell on the machine (journalctl).
 * Transport-neutral: server/inputs/socket.ts and server/inputs/http-hardening.ts apply it.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { VJ_ONLY_KEYS, refusal, type Refusal } from '../common/protocol.js';
import type { Source } from './store.js';

export type Access = 'visitor' | 'admin';

export interface AccessPolicy {
  /** The configured secret; undefined means "loopback is admin". */
  adminToken?: string | undefined;
}

export const ADMIN_REQUIRED = 'this needs the VJ/administrator: send the admin token (HTTP: Authorization: Bearer <adminToken>)';

/** 127.0.0.0/8, ::1 and their IPv4-mapped forms: the machine itself. */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const plain = address.replace(/^::ffff:/i, '');
  return plain === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(plain);
}

/** Constant-time comparison (hashing first evens out the lengths, so a guess learns nothing from timing). */
export function tokenMatches(given: unknown, expected: string): boolean {
  if (typeof given !== 'string' || given.length === 0 || given.length > 1024) return false;
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/**
 * The role of a client at `address` presenting `token` (undefined: none presented).
 * A presented token must be right: a wrong one is refused, never quietly downgraded,
 * so a misconfigured VJ tablet says so instead of silently losing its controls.
 */
export function decideAccess(policy: AccessPolicy, address: string | undefined, token: unknown): Access | Refusal {
  const presented = token !== undefined && token !== null && token !== '';
  if (policy.adminToken !== undefined) {
    if (!presented) return 'visitor';
    return tokenMatches(token, policy.adminToken) ? 'admin' : refusal('forbidden', 'the admin token is wrong');
  }
  if (isLoopback(address)) return 'admin';
  return presented ? refusal('forbidden', 'no adminToken is configured: VJ/administrator control is only possible from the server machine itself') : 'visitor';
}

/** The VJ-only sections a patch touches, or null when a visitor may send it (the store still validates it). */
export function vjOnlyKeysIn(patch: unknown): string[] | null {
  if (!patch || typeof patch !== 'object' || Array.isArray(patch)) return null;
  const found = VJ_ONLY_KEYS.filter((key) => Object.hasOwn(patch, key));
  return found.length ? found : null;
}

/** Why a visitor may not send this patch ('needs-admin'), or null. */
export function visitorPatchRefusal(patch: unknown): Refusal | null {
  const keys = vjOnlyKeysIn(patch);
  return keys ? refusal('needs-admin', `${keys.join(', ')}: only the VJ/administrator may change ${keys.length > 1 ? 'these' : 'this'}`) : null;
}

/** Visitors may list and load presets; saving, overwriting and deleting is the VJ's ('needs-admin'). */
export function visitorPresetRefusal(command: unknown): Refusal | null {
  const op = command && typeof command === 'object' ? (command as { op?: unknown }).op : undefined;
  return op === 'save' || op === 'delete' ? refusal('needs-admin', `presets: only the VJ/administrator may ${op} presets`) : null;
}

/**
 * The store's source for a client: visitors are 'tablet' (the visitor lock applies to
 * them); the admin is a trusted source like a script on the machine ('http').
 */
export function storeSource(access: Access): Source {
  return access === 'admin' ? 'http' : 'tablet';
}
