/**
 * Finds a running Portraits server on this machine when it is not where the configuration
 * says (started with PORT=18555, say): every local TCP port in the LISTEN state (from
 * /proc/net/tcp and tcp6) is asked for /health, and the first that answers as Portraits
 * wins. Linux only; elsewhere, or when /proc cannot be read, nothing is found.
 */
import { readFileSync } from 'node:fs';

const LISTEN = '0A';
/** Ports a Portraits server never takes by default (system services). */
const LOWEST_PORT = 1024;
const PROBE_TIMEOUT_MS = 700;

/** Ports listening on this machine, from the kernel's socket tables. */
export function listeningPorts(tables: readonly string[] = ['/proc/net/tcp', '/proc/net/tcp6']): number[] {
  const ports = new Set<number>();
  for (const table of tables) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 4 || fields[3] !== LISTEN) continue;
      const port = parseInt(fields[1]!.split(':').pop()!, 16);
      if (port >= LOWEST_PORT) ports.add(port);
    }
  }
  return [...ports].sort((a, b) => a - b);
}

export type HealthBody = Record<string, unknown>;

/** GET url/health, or null unless it answers as a Portraits server (a status and a model). */
export async function fetchHealth(url: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<HealthBody | null> {
  // A timer of our own, not AbortSignal.timeout: that one does not keep the process alive, and a
  // port that accepts but never answers would let a CLI run end mid-check (exit code 13).
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  try {
    const res = await fetch(new URL('/health', url), { signal: abort.signal });
    const body = (await res.json()) as HealthBody;
    return typeof body.status === 'string' && 'model' in body ? body : null;
  } catch {
    return null;
  } finally {
    clearTimeout(timer);
  }
}

/** The first local port (other than `skip`) where a Portraits server answers, with its health. */
export async function findLocalServer(skip: readonly number[] = [], ports: readonly number[] = listeningPorts()): Promise<{ url: string; health: HealthBody } | null> {
  const candidates = ports.filter((p) => !skip.includes(p));
  const answers = await Promise.all(candidates.map(async (port) => ({ url: `http://127.0.0.1:${port}`, health: await fetchHealth(`http://127.0.0.1:${port}`) })));
  const found = answers.find((a) => a.health !== null);
  return found ? { url: found.url, health: found.health! } : null;
}
