/** OSC peers: who may send (the oscAllow list) and where replies and feedback go. */
import { BlockList, isIP, isIPv4 } from 'node:net';

export interface Endpoint {
  host: string;
  port: number;
}

/** IPv4 peers seen on a dual-stack socket arrive as ::ffff:a.b.c.d; compare them as a.b.c.d. */
export function plainHost(host: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(host);
  return m ? m[1]! : host.toLowerCase();
}

/** A stable key for comparing endpoints. */
export function endpointKey(e: Endpoint): string {
  return `${plainHost(e.host)}|${e.port}`;
}

export function formatEndpoint(e: Endpoint): string {
  return isIP(e.host) === 6 ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`;
}

/** "host:port" or "[v6addr]:port" -> Endpoint; throws with the expected form. */
export function parseEndpoint(text: string): Endpoint {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:\s]+):(\d+)$/.exec(text);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !(port >= 1 && port <= 65535)) throw new Error(`'${text}' is not host:port (IPv6: [addr]:port)`);
  return { host: m[1]!, port };
}

/**
 * The hosts allowed to send OSC. Entries: an address, a CIDR subnet, or '*' for anyone.
 * Throws naming a bad entry, so a typo in the config stops the start.
 */
export function allowList(entries: readonly string[]): (host: string) => boolean {
  if (entries.includes('*')) return () => true;
  const list = new BlockList();
  for (const entry of entries) {
    const [addr, bits, extra] = entry.split('/');
    const family = addr ? isIP(addr) : 0;
    if (!family || extra !== undefined) throw new Error(`oscAllow entry '${entry}' is not an IP address, a CIDR subnet (10.0.0.0/8) or '*'`);
    const type = family === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) {
      list.addAddress(addr!, type);
      continue;
    }
    const prefix = Number(bits);
    if (!Number.isInteger(prefix) || prefix < 0 || prefix > (family === 6 ? 128 : 32)) throw new Error(`oscAllow entry '${entry}' has an invalid prefix length`);
    list.addSubnet(addr!, prefix, type);
  }
  return (host) => {
    const plain = plainHost(host);
    return list.check(plain, isIPv4(plain) ? 'ipv4' : 'ipv6');
  };
}
