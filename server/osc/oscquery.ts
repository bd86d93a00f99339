/**
 * OSCQuery (https://github.com/Vidvox/OSCQueryProposal): the address space as JSON over
 * HTTP, built from the same derived table as the OSC server, so tools (Chataigne, ossia
 * score, TouchDesigner's OSCQuery DAT...) discover every parameter with its type, range
 * and current value. Served at /oscquery, at /portraits/... and as /?HOST_INFO; LISTEN and
 * PATH_CHANGED go over a WebSocket on the same port (server/osc/listen.ts), and the service
 * is advertised over multicast DNS (server/osc/mdns.ts).
 */
import express, { type Request, type Response, type Router } from 'express';
import type { LiveState } from '../../common/state.js';
import { plainHost } from './endpoints.js';
import { OSC_ROOT, paramArgs, typeTags, type AddressSpace, type OscParam, type Scalar } from './address-space.js';

export const ACCESS = { none: 0, read: 1, write: 2, readWrite: 3 } as const;

export interface OscQueryNode {
  FULL_PATH: string;
  DESCRIPTION?: string;
  CONTENTS?: Record<string, OscQueryNode>;
  TYPE?: string;
  VALUE?: unknown[];
  RANGE?: ({ MIN?: number; MAX?: number; VALS?: unknown[] } | null)[];
  ACCESS?: number;
}

const ATTRIBUTES = ['FULL_PATH', 'CONTENTS', 'TYPE', 'VALUE', 'RANGE', 'ACCESS', 'DESCRIPTION'] as const;

function range(scalar: Scalar): { MIN?: number; MAX?: number; VALS?: unknown[] } | null {
  if (scalar.values) return { VALS: [...scalar.values] };
  if (scalar.kind === 'bool') return { VALS: [false, true] };
  if (scalar.min === undefined && scalar.max === undefined) return null;
  return { ...(scalar.min !== undefined ? { MIN: scalar.min } : {}), ...(scalar.max !== undefined ? { MAX: scalar.max } : {}) };
}

function paramNode(param: OscParam, state: Readonly<LiveState>): OscQueryNode {
  const values = paramArgs(param, state).map((a) => a.value);
  const ranges =
    param.shape === 'list' ? values.map(() => range(param.args[0]!)) : param.shape === 'map' ? values.map((_, i) => range(param.args[i % 2]!)) : param.args.map(range);
  return { FULL_PATH: param.address, TYPE: typeTags(param, state), VALUE: values, RANGE: ranges, ACCESS: ACCESS.readWrite, DESCRIPTION: param.description };
}

/** The whole tree, rooted at "/", with the current values from `state`. */
export function oscQueryTree(space: AddressSpace, state: Readonly<LiveState>): OscQueryNode {
  const root: OscQueryNode = { FULL_PATH: '/', CONTENTS: {}, ACCESS: ACCESS.none, DESCRIPTION: 'Imaginary Portraits' };
  const place = (address: string, leaf: OscQueryNode) => {
    const parts = address.split('/').filter(Boolean);
    let node = root;
    parts.forEach((part, i) => {
      const path = '/' + parts.slice(0, i + 1).join('/');
      node.CONTENTS ??= {};
      const existing = node.CONTENTS[part];
      if (i === parts.length - 1) {
        node.CONTENTS[part] = existing?.CONTENTS ? { ...leaf, CONTENTS: existing.CONTENTS } : leaf;
      } else {
        node.CONTENTS[part] = existing ?? { FULL_PATH: path, CONTENTS: {}, ACCESS: ACCESS.none, ...(space.group(path) ? { DESCRIPTION: space.group(path)!.description } : {}) };
      }
      node = node.CONTENTS[part]!;
    });
  };
  for (const param of space.params) place(param.address, paramNode(param, state));
  for (const command of space.commands) place(command.address, { FULL_PATH: command.address, TYPE: 'N', ACCESS: ACCESS.write, DESCRIPTION: command.description });
  for (const service of space.services) {
    place(service.address, {
      FULL_PATH: service.address,
      ...(service.types ? { TYPE: service.types } : { TYPE: 'N' }),
      ACCESS: service.direction === 'in' ? ACCESS.write : ACCESS.read,
      DESCRIPTION: service.description,
    });
  }
  // Every node has a DESCRIPTION: a folder the address space does not describe says what it holds.
  const describeFolders = (node: OscQueryNode) => {
    if (!node.CONTENTS) return;
    node.DESCRIPTION ??= `${node.FULL_PATH}: ${Object.keys(node.CONTENTS).join(', ')}`;
    for (const child of Object.values(node.CONTENTS)) describeFolders(child);
  };
  describeFolders(root);
  return root;
}

export function findNode(root: OscQueryNode, path: string): OscQueryNode | undefined {
  let node: OscQueryNode | undefined = root;
  for (const part of path.split('/').filter(Boolean)) node = node?.CONTENTS?.[decodeURIComponent(part)];
  return node;
}

export interface HostInfoSource {
  oscPort: number | null;
  oscHost: string;
}

/**
 * HOST_INFO. OSC_IP is where the OSC socket answers: its bind address, or, when it listens
 * on every address (0.0.0.0, ::), `requestAddress`, the local address the HTTP request came
 * in on (a client that reached us there reaches the OSC socket there too).
 */
export function hostInfo(source: HostInfoSource, requestAddress?: string): Record<string, unknown> {
  const any = source.oscHost === '0.0.0.0' || source.oscHost === '::';
  const ip = any ? (requestAddress ? plainHost(requestAddress) : undefined) : source.oscHost;
  return {
    NAME: 'Imaginary Portraits',
    ...(source.oscPort !== null ? { OSC_PORT: source.oscPort, OSC_TRANSPORT: 'UDP', ...(ip ? { OSC_IP: ip } : {}) } : {}),
    EXTENSIONS: { ACCESS: true, VALUE: true, RANGE: true, DESCRIPTION: true, TAGS: false, CLIPMODE: false, UNIT: false, CRITICAL: false, LISTEN: true, PATH_CHANGED: true, HTML: false },
  };
}

/** The attribute named by a query like "?VALUE", if any. */
function queryAttribute(req: Request): string | null {
  const i = req.originalUrl.indexOf('?');
  if (i < 0) return null;
  const key = req.originalUrl.slice(i + 1).split('&')[0]!.split('=')[0]!;
  return key || null;
}

export function oscQueryRouter(space: AddressSpace, state: () => Readonly<LiveState>, info: () => HostInfoSource): Router {
  const router = express.Router();
  const answer = (req: Request, res: Response, path: string) => {
    const attribute = queryAttribute(req);
    if (attribute === 'HOST_INFO') return void res.json(hostInfo(info(), req.socket.localAddress));
    const node = findNode(oscQueryTree(space, state()), path);
    if (!node) return void res.status(404).json({ error: `no OSC address ${path}` });
    if (!attribute) return void res.json(node);
    if (!(ATTRIBUTES as readonly string[]).includes(attribute)) return void res.status(400).json({ error: `unknown attribute ${attribute}; one of ${ATTRIBUTES.join(', ')}, HOST_INFO` });
    const value = node[attribute as keyof OscQueryNode];
    if (value === undefined) return void res.status(204).end();
    res.json({ [attribute]: value });
  };
  router.get(/^\/oscquery(\/.*)?$/, (req, res) => answer(req, res, req.path.slice('/oscquery'.length) || '/'));
  router.get(new RegExp(`^${OSC_ROOT}(/.*)?$`), (req, res) => answer(req, res, req.path));
  // The page lives at "/", so only OSCQuery's attribute queries (/?HOST_INFO, /?CONTENTS...) are answered there.
  router.get('/', (req, res, next) => {
    const attribute = queryAttribute(req);
    if (!attribute || (attribute !== 'HOST_INFO' && !(ATTRIBUTES as readonly string[]).includes(attribute))) return next();
    answer(req, res, '/');
  });
  return router;
}
