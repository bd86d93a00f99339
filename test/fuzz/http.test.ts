/**
 * HTTP fuzzing against the real server process over keep-alive connections: random
 * methods, paths (traversal, odd encodings, long and unknown ones), headers (content
 * types, bearer tokens right and wrong, garbage) and bodies (random and mutated JSON,
 * malformed text). 20,000 requests by default, FUZZ_COUNT=100000 for the full run.
 * No request may get a 5xx, the server must not crash or log an error, invalid input
 * must not change the state, and every change must be a 200 that says so.
 */
import { Agent, request } from 'node:http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Fuzz } from './inputs.js';
import { ADMIN_TOKEN, framesStillFlow, fuzzCount, startServerProcess, type ServerProcess } from './server-process.js';

const COUNT = fuzzCount(20_000);
const CONCURRENCY = 32;
const fuzz = new Fuzz();
let server: ServerProcess;
const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });

interface Sent {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
}
interface Answer {
  status: number;
  body: string;
}

function send(req: Sent): Promise<Answer> {
  return new Promise((resolve) => {
    const r = request({ host: '127.0.0.1', port: server.port, agent, method: req.method, path: req.path, headers: req.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      res.on('error', () => resolve({ status: -1, body: '' }));
    });
    // A request the client cannot even send (an invalid header value) is not the server's fault.
    r.on('error', (err) => resolve({ status: -1, body: err.message }));
    r.end(req.body);
  });
}

const PATHS = [
  '/',
  '/health',
  '/api/state',
  '/api/command',
  '/api/presets',
  '/api/presets/Opening',
  '/api/presets/Opening/load',
  '/oscquery',
  '/oscquery/portraits/walk/speed?VALUE',
  '/?HOST_INFO',
  '/controller/',
  '/assets/x.js',
  '/socket.io/?EIO=4&transport=polling',
  '/../../etc/passwd',
  '/%2e%2e/%2e%2e/package.json',
  '/api/presets/..%2f..%2fx',
  '/api/presets/%00',
  '/%E0%A4%A',
  '/api/state?x=' + 'a'.repeat(2000),
  '//api//state',
  '/API/STATE',
  '/api/presets/' + 'n'.repeat(300),
];

function path(): string {
  const base = fuzz.pick(PATHS);
  if (fuzz.chance(0.7)) return base;
  const cut = fuzz.int(base.length + 1);
  return (base.slice(0, cut) + encodeURIComponent(fuzz.text(8)) + base.slice(cut)).replace(/^([^/])/, '/$1');
}

function headers(body: string | Buffer | undefined, admin: 'none' | 'right' | 'wrong' | 'junk'): Record<string, string> {
  const h: Record<string, string> = {};
  if (body !== undefined) h['content-type'] = fuzz.pick(['application/json', 'application/json', 'text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1', 'multipart/form-data; boundary=x', '']);
  if (admin === 'right') h.authorization = `Bearer ${ADMIN_TOKEN}`;
  if (admin === 'wrong') h.authorization = `Bearer ${fuzz.text(30).replace(/[^\x21-\x7e]/g, '') || 'x'}`;
  if (admin === 'junk') h.authorization = fuzz.pick(['Basic YTpi', 'Bearer', 'bearer  ', `Bearer ${ADMIN_TOKEN}x`]);
  if (fuzz.chance(0.1)) h['x-forwarded-for'] = '10.0.0.1, 127.0.0.1';
  if (fuzz.chance(0.05)) h.origin = 'http://evil.example';
  return h;
}

/** A request that can only be refused: invalid state or commands, VJ keys without the token, wrong tokens, writes of bad names. */
function invalidRequest(): Sent {
  switch (fuzz.int(6)) {
    case 0:
    case 1: {
      const body = JSON.stringify(fuzz.invalidPatch());
      return { method: 'PATCH', path: '/api/state', headers: headers(body, fuzz.pick(['none', 'right'])), body };
    }
    case 2: {
      const body = JSON.stringify(fuzz.pick([{ display: { blackout: 1 } }, { visitorLock: true }, { loop: { period: 9 } }]));
      return { method: 'PATCH', path: '/api/state', headers: headers(body, 'none'), body };
    }
    case 3: {
      const body = JSON.stringify(fuzz.invalidCommand());
      return { method: 'POST', path: '/api/command', headers: headers(body, fuzz.pick(['none', 'right'])), body };
    }
    case 4: {
      const body = fuzz.pick(['{', '{"walk":', '[1,2', 'null x', '\u0000', 'walk=1', '{"a":' + '['.repeat(5000)]);
      return { method: fuzz.pick(['PATCH', 'POST']), path: fuzz.pick(['/api/state', '/api/command']), headers: { 'content-type': 'application/json' }, body };
    }
    default:
      return { method: fuzz.pick(['PUT', 'DELETE', 'POST']), path: fuzz.pick(['/api/presets/..%2fx', '/api/presets/a%2Fb', '/api/presets/.hidden', '/api/presets/Opening', '/api/presets/nope/load']), headers: headers(undefined, 'none') };
  }
}

/** Wrong tokens lock the address out for 15 minutes (as they should); send them only at the end, so the VJ's routes get fuzzed first. */
let wrongTokensNow = false;

function randomRequest(): Sent {
  const method = fuzz.pick(['GET', 'GET', 'PATCH', 'POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', 'TRACE', 'PROPFIND']);
  const roll = fuzz.int(10);
  let body: string | Buffer | undefined;
  if (method !== 'GET' && method !== 'HEAD' && roll < 8) {
    const value = roll < 4 ? fuzz.anyPatch() : roll < 6 ? fuzz.command() : fuzz.anything();
    body = fuzz.chance(0.9) ? JSON.stringify(value) ?? 'null' : Buffer.from(Array.from({ length: fuzz.int(100) }, () => fuzz.int(256)));
  }
  // Presets writes touch the disk (fsync); keep them a small share so the run measures the server, not the disk.
  const admin = fuzz.pick(wrongTokensNow ? (['none', 'right', 'junk', 'wrong'] as const) : (['none', 'none', 'right', 'right'] as const));
  let p = path();
  if ((method === 'PUT' || method === 'DELETE') && p.startsWith('/api/presets/') && admin === 'right' && fuzz.chance(0.9)) p = '/api/presets/Opening';
  return { method, path: p, headers: headers(body, admin), body };
}

beforeAll(async () => {
  server = await startServerProcess();
  console.log(`HTTP fuzz: ${COUNT} requests, seed ${fuzz.seed} (FUZZ_SEED to replay, FUZZ_COUNT to change the count)`);
}, 240_000);

afterAll(async () => {
  agent.destroy();
  await server?.stop();
});

async function run(n: number, make: () => Sent, check: (req: Sent, res: Answer) => void): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < n) {
      next += 1;
      const req = make();
      check(req, await send(req));
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

it(`${COUNT} HTTP requests: no 5xx, no crash, no error, invalid input changes nothing, every change answered`, { timeout: 900_000 }, async () => {
  const started = Date.now();
  const statuses = new Map<number, number>();
  const serverErrors: string[] = [];
  const tally = (req: Sent, res: Answer) => {
    statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    if (res.status >= 500) serverErrors.push(`${req.method} ${req.path} -> ${res.status} ${res.body.slice(0, 200)}`);
  };

  const before = await server.state();
  const phaseA = Math.floor(COUNT * 0.4);
  const accepted: string[] = [];
  await run(phaseA, invalidRequest, (req, res) => {
    tally(req, res);
    if (res.status >= 200 && res.status < 300) accepted.push(`${req.method} ${req.path} ${String(req.body).slice(0, 100)} -> ${res.status}`);
  });
  const afterA = await server.state();
  const timeA = (Date.now() - started) / 1000;

  let changes = 0;
  const clientErrors = new Map<string, number>();
  const phaseB = (req: Sent, res: Answer) => {
    tally(req, res);
    if (res.status === -1) {
      const key = `${req.method} with ${req.body === undefined ? 'no body' : 'a body'}: ${res.body}`;
      clientErrors.set(key, (clientErrors.get(key) ?? 0) + 1);
    }
    if (res.status === 200 && /^\{"ok":true,"(version|names)"/.test(res.body) && /"version":\d+/.test(res.body)) changes += 1;
  };
  const late = Math.floor((COUNT - phaseA) * 0.1);
  await run(COUNT - phaseA - late, randomRequest, phaseB);
  wrongTokensNow = true;
  await run(late, randomRequest, phaseB);
  const afterB = await server.state();
  const seconds = (Date.now() - started) / 1000;
  const table = [...statuses].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}: ${n}`).join(', ');
  console.log(
    `HTTP fuzz: ${COUNT} requests in ${seconds.toFixed(1)} s (${Math.round(COUNT / seconds)}/s); phase A ${phaseA} invalid in ${timeA.toFixed(1)} s, ${afterA.version - before.version} changes; ` +
      `phase B ${COUNT - phaseA} random: ${afterB.version - afterA.version} changes, ${changes} answered as changes; statuses { ${table} }; server errors: ${server.errors.length}`,
  );
  if (clientErrors.size) console.log(`requests the client could not complete (-1): ${JSON.stringify(Object.fromEntries(clientErrors))}`);
  expect(server.exit).toBeNull();
  expect(serverErrors).toEqual([]);
  expect(server.errors).toEqual([]);
  expect(accepted).toEqual([]);
  expect(afterA.version).toBe(before.version);
  expect(afterA.state).toEqual(before.state);
  expect(afterB.version - afterA.version).toBe(changes);
  await framesStillFlow(server);
});
