/**
 * Test support for the OSC tests: a tiny random-weight generator (the server needs some
 * model; the OSC tests care about state and frames, not faces), Debian's liblo tools as
 * the independent OSC peers, and a UDP peer that both sends and listens on one port.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import oscModule from 'osc-js';
import { floatTensor, int64Tensor, model, node, valueInfo, writeModel } from '../../onnx-compilers/proto.js';

const run = promisify(execFile);
const OSC: typeof oscModule.default = (oscModule as unknown as { default?: typeof oscModule.default }).default ?? (oscModule as unknown as typeof oscModule.default);
export { OSC };

/** A models dir holding 'osc-tiny': z[N,8] -> MatMul -> Reshape [N,3,8,8] -> Tanh. */
export async function tinyModelsDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'portraits-osc-models-'));
  const id = 'osc-tiny';
  const latent = 8;
  const res = 8;
  const weights = Float32Array.from({ length: latent * 3 * res * res }, (_, i) => Math.sin(i * 12.9898) * 0.8);
  const graph = {
    name: id,
    node: [node('MatMul', ['z', 'W'], ['h']), node('Reshape', ['h', 'shape'], ['r']), node('Tanh', ['r'], ['image'])],
    initializer: [floatTensor('W', [latent, 3 * res * res], weights), int64Tensor('shape', [4], [-1, 3, res, res])],
    input: [valueInfo('z', ['N', latent])],
    output: [valueInfo('image', ['N', 3, res, res])],
  };
  await mkdir(join(dir, id));
  await writeModel(join(dir, id, 'generator.onnx'), model(graph));
  const manifest = {
    id,
    kind: 'generator',
    generator: { file: 'generator.onnx', input: 'z', output: 'image', latentSize: latent, distribution: 'normal', resolution: res, range: [-1, 1], layout: 'NCHW' },
    licence: { model: 'test fixture, random weights' },
  };
  await writeFile(join(dir, id, 'manifest.json'), JSON.stringify(manifest));
  return dir;
}

/**
 * oscsend/oscdump from liblo-tools, or null (with the reason printed) when they are not
 * installed; under CI their absence is a failure, so CI cannot pass by skipping.
 */
export async function liblo(): Promise<boolean> {
  try {
    await run('oscsend', [], { timeout: 5000 }).catch((err: { stdout?: string; stderr?: string }) => {
      if (!`${err.stdout}${err.stderr}`.includes('oscsend')) throw err;
    });
    await run('which', ['oscdump']);
    return true;
  } catch {
    const why = 'liblo-tools (oscsend, oscdump) are not installed: apt-get install -y liblo-tools';
    if (process.env.CI === 'true') throw new Error(`CI=true but ${why}`);
    console.warn(`skipped: ${why}`);
    return false;
  }
}

/** liblo's oscsend: one message, types as liblo spells them (i f s T F ...). */
export async function oscsend(port: number, address: string, types = '', ...values: (string | number)[]): Promise<void> {
  await run('oscsend', ['127.0.0.1', String(port), address, types, ...values.map(String)], { timeout: 5000 });
}

export async function freeUdpPort(): Promise<number> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(resolve));
  return port;
}

/** One line oscdump printed: "<timetag> /address types value value...". */
export interface DumpLine {
  address: string;
  types: string;
  values: string[];
  raw: string;
}

function parseDump(line: string): DumpLine | null {
  const m = /^\S+ (\/\S*) ?(\S*) ?(.*)$/.exec(line.trim());
  if (!m) return null;
  const values = m[3] ? (m[3].match(/"[^"]*"|\S+/g) ?? []).map((v) => v.replace(/^"|"$/g, '')) : [];
  return { address: m[1]!, types: m[2] ?? '', values, raw: line };
}

/** liblo's oscdump listening on a UDP port, its lines collected as they come. */
export class OscDump {
  readonly lines: DumpLine[] = [];
  private readonly child: ChildProcess;
  private waiters: (() => void)[] = [];
  private buffer = '';

  private constructor(readonly port: number) {
    this.child = spawn('oscdump', ['-L', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      this.buffer += chunk;
      const parts = this.buffer.split('\n');
      this.buffer = parts.pop()!;
      for (const part of parts) {
        const line = parseDump(part);
        if (line) this.lines.push(line);
      }
      for (const w of this.waiters) w();
    });
  }

  /** Starts oscdump on `port` (a free one by default) and waits until it receives. */
  static async start(port?: number): Promise<OscDump> {
    const dump = new OscDump(port ?? (await freeUdpPort()));
    // oscdump prints nothing when it is ready: probe it until a probe comes through.
    const probe = dgram.createSocket('udp4');
    const packet = Buffer.from(new OSC.Message('/probe').pack());
    try {
      for (let i = 0; i < 50 && !dump.lines.some((l) => l.address === '/probe'); i++) {
        probe.send(packet, dump.port, '127.0.0.1');
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      probe.close();
    }
    if (!dump.lines.some((l) => l.address === '/probe')) throw new Error(`oscdump on port ${dump.port} did not start`);
    return dump;
  }

  /** Resolves with the first line (from index `from` on) that matches, or rejects after `ms`. */
  waitFor(match: (line: DumpLine) => boolean, ms = 5000, from = 0): Promise<DumpLine> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.lines.slice(from).find(match);
        if (!found) return false;
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== onData);
        resolve(found);
        return true;
      };
      const onData = () => void check();
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== onData);
        reject(new Error(`oscdump saw no matching line in ${ms} ms; it saw:\n${this.lines.slice(from).map((l) => l.raw).join('\n')}`));
      }, ms);
      if (!check()) this.waiters.push(onData);
    });
  }

  close(): void {
    this.child.kill('SIGTERM');
  }
}

export interface Received {
  address: string;
  args: unknown[];
}

/** A UDP OSC peer that sends from and listens on one port, like TouchOSC does. */
export class OscPeer {
  readonly received: Received[] = [];
  private constructor(private readonly socket: dgram.Socket) {
    socket.on('message', (bytes) => {
      const packet = new OSC.Packet();
      packet.unpack(new DataView(Uint8Array.from(bytes).buffer));
      const collect = (item: unknown) => {
        if (item instanceof OSC.Bundle) (item.bundleElements as unknown[]).forEach(collect);
        else {
          const m = item as { address: string; args: unknown[] };
          this.received.push({ address: m.address, args: m.args });
        }
      };
      collect(packet.value);
    });
  }

  static async open(): Promise<OscPeer> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return new OscPeer(socket);
  }

  get port(): number {
    return this.socket.address().port;
  }

  send(to: number, packet: { pack(): Uint8Array } | Uint8Array): Promise<void> {
    const bytes = packet instanceof Uint8Array ? packet : packet.pack();
    return new Promise((resolve, reject) => this.socket.send(bytes, to, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
  }

  async waitFor(address: string, ms = 3000, from = 0): Promise<Received> {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      const found = this.received.slice(from).find((r) => r.address === address);
      if (found) return found;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`no ${address} within ${ms} ms; received: ${JSON.stringify(this.received.slice(from))}`);
  }

  close(): void {
    this.socket.close();
  }
}

/** Polls `check` until it returns true (or throws after `ms`). */
export async function until(check: () => boolean, ms = 3000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
