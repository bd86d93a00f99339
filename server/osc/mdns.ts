/**
 * Multicast DNS (DNS-SD) advertising, so OSCQuery clients find the installation on the
 * network without typing an address: `_oscjson._tcp` is the OSCQuery HTTP server (the
 * installation's HTTP port), `_osc._udp` the OSC socket. bonjour-service does the mDNS
 * (probing, announcing, answering queries, goodbye packets on close). config.mdns turns it off.
 */
import { hostname } from 'node:os';
import { Bonjour, type Service, type ServiceConfig } from 'bonjour-service';
import { logger } from '../log.js';

const log = logger('mdns');

export interface AdvertiseOptions {
  /** The HTTP port: OSCQuery's JSON and its WebSocket. */
  httpPort: number;
  /** The OSC UDP port, or null when OSC is off. */
  oscPort: number | null;
  /** Instance name; default: "Imaginary Portraits on <host> <port>", unique per machine and port. */
  name?: string;
}

export function serviceName(httpPort: number, host = hostname()): string {
  // DNS-SD instance names may hold spaces but bonjour-service turns dots into dashes: do it here so the log says what is sent.
  return `Imaginary Portraits on ${host.split('.')[0]} ${httpPort}`.replace(/\./g, '-').slice(0, 63);
}

/** What is advertised: one service per transport. */
export function mdnsServices(opts: AdvertiseOptions): ServiceConfig[] {
  const name = opts.name ?? serviceName(opts.httpPort);
  const services: ServiceConfig[] = [{ name, type: 'oscjson', protocol: 'tcp', port: opts.httpPort, txt: { txtvers: '1' } }];
  if (opts.oscPort !== null) services.push({ name, type: 'osc', protocol: 'udp', port: opts.oscPort, txt: { txtvers: '1' } });
  return services;
}

export class MdnsAdvertiser {
  private closing: Promise<void> | null = null;

  private constructor(
    private readonly bonjour: Bonjour,
    readonly services: readonly Service[],
  ) {}

  /** Starts advertising; an mDNS socket that cannot open is logged, never fatal (the installation works without it). */
  static start(opts: AdvertiseOptions): MdnsAdvertiser {
    const bonjour = new Bonjour({}, (err: Error) => log.warn({ err: err.message }, 'multicast DNS failed; OSCQuery clients will need the address typed in'));
    const configs = mdnsServices(opts);
    const services = configs.map((config) => bonjour.publish(config));
    log.info(
      { services: configs.map((c) => ({ name: c.name, type: `_${c.type}._${c.protocol}`, port: c.port })) },
      `advertising over multicast DNS: ${configs.map((c) => `_${c.type}._${c.protocol} port ${c.port}`).join(', ')} as "${configs[0]!.name}"`,
    );
    return new MdnsAdvertiser(bonjour, services);
  }

  /** Sends goodbyes (TTL 0) for the services and closes the mDNS socket. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        try {
          this.bonjour.destroy();
        } catch (err) {
          log.warn({ err: (err as Error).message }, 'closing multicast DNS failed');
        }
        resolve();
      };
      // Goodbyes are best effort: never let a dead network hold up the shutdown.
      const timer = setTimeout(finish, 1000);
      try {
        this.bonjour.unpublishAll(finish);
      } catch {
        finish();
      }
    });
    return this.closing;
  }
}
