/**
 * What OSCQuery advertises and answers, without the network: the multicast DNS records
 * (as bonjour-service will send them), HOST_INFO's OSC_IP, the mdns config switch, and a
 * DESCRIPTION on every node of the tree.
 */
import { Service } from 'bonjour-service';
import { describe, expect, it } from 'vitest';
import { DEFAULT_STATE } from '../../common/state.js';
import { resolveConfig } from '../../server/config.js';
import { buildAddressSpace } from '../../server/osc/address-space.js';
import { mdnsServices, serviceName } from '../../server/osc/mdns.js';
import { hostInfo, oscQueryTree, type OscQueryNode } from '../../server/osc/oscquery.js';

const noop = () => undefined;

describe('multicast DNS records', () => {
  it('advertises _oscjson._tcp on the HTTP port and _osc._udp on the OSC port under one name', () => {
    const configs = mdnsServices({ httpPort: 8080, oscPort: 9000, name: 'Imaginary Portraits on gallery 8080' });
    const records = configs.flatMap((c) => new Service(c, noop, noop).records());
    const find = (type: string, name: string) => records.filter((r) => r.type === type && r.name === name);
    expect(find('PTR', '_oscjson._tcp.local').map((r) => r.data)).toEqual(['Imaginary Portraits on gallery 8080._oscjson._tcp.local']);
    expect(find('PTR', '_osc._udp.local').map((r) => r.data)).toEqual(['Imaginary Portraits on gallery 8080._osc._udp.local']);
    expect(find('SRV', 'Imaginary Portraits on gallery 8080._oscjson._tcp.local')[0]!.data).toMatchObject({ port: 8080 });
    expect(find('SRV', 'Imaginary Portraits on gallery 8080._osc._udp.local')[0]!.data).toMatchObject({ port: 9000 });
  });

  it('leaves out _osc._udp when OSC is off, and names the instance by host and port', () => {
    expect(mdnsServices({ httpPort: 8080, oscPort: null }).map((c) => `${c.type}/${c.protocol}`)).toEqual(['oscjson/tcp']);
    expect(serviceName(8080, 'gallery.example.org')).toBe('Imaginary Portraits on gallery 8080');
    expect(mdnsServices({ httpPort: 1234, oscPort: 9000 })[0]!.name).toBe(serviceName(1234));
  });

  it('is on by default and turned off by the mdns key (env PORTRAITS_MDNS, --mdns)', () => {
    expect(resolveConfig({}, {}).mdns).toBe(true);
    expect(resolveConfig({}, { PORTRAITS_MDNS: 'false' }).mdns).toBe(false);
    expect(resolveConfig({}, { PORTRAITS_MDNS: 'off' }).mdns).toBe(false);
    expect(resolveConfig({ mdns: 'false' } as never, {}).mdns).toBe(false);
    expect(() => resolveConfig({ mdns: 'maybe' } as never, {})).toThrow(/mdns/);
  });
});

describe('HOST_INFO', () => {
  it('gives OSC_IP as the bind address, or the address the request came in on when bound to every address', () => {
    expect(hostInfo({ oscPort: 9000, oscHost: '192.168.1.20' }, '10.0.0.1')).toMatchObject({ OSC_IP: '192.168.1.20', OSC_PORT: 9000, OSC_TRANSPORT: 'UDP' });
    expect(hostInfo({ oscPort: 9000, oscHost: '0.0.0.0' }, '192.168.1.20')).toMatchObject({ OSC_IP: '192.168.1.20' });
    expect(hostInfo({ oscPort: 9000, oscHost: '::' }, '::ffff:192.168.1.20')).toMatchObject({ OSC_IP: '192.168.1.20' });
    expect(hostInfo({ oscPort: null, oscHost: '0.0.0.0' }, '192.168.1.20')).not.toHaveProperty('OSC_IP');
    expect(hostInfo({ oscPort: 9000, oscHost: '0.0.0.0' }).EXTENSIONS).toMatchObject({ LISTEN: true, PATH_CHANGED: true });
  });
});

describe('OSCQuery tree', () => {
  it('has a DESCRIPTION on every node, folders included', () => {
    const space = buildAddressSpace();
    const nodes: OscQueryNode[] = [];
    const walk = (node: OscQueryNode) => {
      nodes.push(node);
      for (const child of Object.values(node.CONTENTS ?? {})) walk(child);
    };
    walk(oscQueryTree(space, DEFAULT_STATE));
    expect(nodes.filter((n) => !n.DESCRIPTION).map((n) => n.FULL_PATH)).toEqual([]);
    const folders = nodes.filter((n) => n.CONTENTS);
    expect(folders.length).toBeGreaterThan(5);
    for (const group of space.groups) expect(nodes.find((n) => n.FULL_PATH === group.address)?.DESCRIPTION).toBe(group.description);
  });
});
