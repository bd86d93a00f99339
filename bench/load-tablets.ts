/**
 * Child process of the load and soak benches: N visitor tablets, each sending `rate` inputs
 * a second (mostly walk-speed and plane moves, now and then "new face") and timing each
 * acknowledgement. Runs apart from the bench's display and probe so its own busy event
 * loop does not distort what they measure.
 *
 * The tablets speak the socket.io protocol (Engine.IO 4) over a plain WebSocket (`ws`):
 * on a 2-core machine, 200 full socket.io clients would cost more CPU than the server they
 * load. The server cannot tell the difference: it sees the same handshake, the same event
 * and acknowledgement packets, the same pings answered.
 *
 *   node --import tsx bench/load-tablets.ts URL TABLETS RATE SECONDS   (IPC: 'ready' -> 'start' -> result)
 */
import WebSocket from 'ws';
import { SOCKET_PATH } from '../common/protocol.js';

/** Acknowledgement times in 1 ms buckets up to 10 s: constant memory however long the run. */
export class LatencyHistogram {
  readonly buckets = new Uint32Array(10_001);
  count = 0;
  add(ms: number): void {
    this.buckets[Math.min(10_000, Math.max(0, Math.round(ms)))]! += 1;
    this.count += 1;
  }
  percentile(p: number): number {
    let target = Math.ceil((p / 100) * this.count);
    for (let ms = 0; ms < this.buckets.length; ms++) {
      target -= this.buckets[ms]!;
      if (target <= 0) return ms;
    }
    return NaN;
  }
}

export interface TabletsResult {
  tablets: number;
  sent: number;
  acked: number;
  refused: number;
  /** Refusals by their code (common/protocol.ts RefusalCode). */
  refusedReasons: Record<string, number>;
  unanswered: number;
  stateEvents: number;
  ackP50: number;
  ackP95: number;
  ackP99: number;
  ackMax: number;
}

/** One tablet: a WebSocket speaking Engine.IO 4 / socket.io 5 packets. */
class Tablet {
  private readonly ws: WebSocket;
  private nextId = 0;
  private readonly pending = new Map<number, number>();
  stateEvents = 0;

  constructor(
    url: string,
    private readonly onAck: (ms: number, reply: string) => void,
  ) {
    const ws = new URL(url);
    ws.protocol = ws.protocol === 'https:' ? 'wss:' : 'ws:';
    ws.pathname = `${SOCKET_PATH}/`;
    ws.search = '?EIO=4&transport=websocket';
    this.ws = new WebSocket(ws);
  }

  /** Resolves once the socket.io namespace is joined as a controller. */
  connect(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.ws.on('error', reject);
      this.ws.on('message', (data) => {
        const text = data.toString();
        if (text === '2') return this.ws.send('3'); // ping -> pong
        if (text.startsWith('0')) return this.ws.send(`40${JSON.stringify({ role: 'controller' })}`);
        if (text.startsWith('40')) return resolve();
        if (text.startsWith('44')) return reject(new Error(`handshake refused: ${text.slice(2)}`));
        if (text.startsWith('42["state"')) this.stateEvents += 1;
        else if (text.startsWith('43')) {
          const open = text.indexOf('[');
          const id = Number(text.slice(2, open));
          const sentAt = this.pending.get(id);
          if (sentAt === undefined) return;
          this.pending.delete(id);
          this.onAck(performance.now() - sentAt, text.slice(open));
        }
      });
    });
  }

  emit(event: string, payload: unknown): void {
    const id = this.nextId++;
    this.pending.set(id, performance.now());
    this.ws.send(`42${id}${JSON.stringify([event, payload])}`);
  }

  close(): void {
    this.ws.close();
  }
}

function input(i: number): { event: 'patch' | 'command'; payload: unknown } {
  const r = Math.random();
  if (r < 0.02) return { event: 'command', payload: { type: 'newFace' } };
  if (r < 0.6) return { event: 'patch', payload: { walk: { speed: Math.round(Math.random() * 100) / 100 } } };
  return { event: 'patch', payload: { plane: { x: (i % 16) + Math.random(), y: Math.random() * 16 } } };
}

async function main(): Promise<void> {
  const [url, count, rate, seconds] = process.argv.slice(2);
  if (!url || !count || !rate || !seconds || !process.send) throw new Error('usage: load-tablets.ts URL TABLETS RATE SECONDS (as an IPC child)');
  const histogram = new LatencyHistogram();
  let sent = 0;
  let acked = 0;
  let refused = 0;
  let ackMax = 0;
  const reasons: Record<string, number> = {};
  const onAck = (ms: number, reply: string) => {
    histogram.add(ms);
    ackMax = Math.max(ackMax, ms);
    acked += 1;
    if (reply.startsWith('[{"ok":true')) return;
    refused += 1;
    const code = (JSON.parse(reply) as [{ code?: string }])[0]?.code ?? 'no code';
    reasons[code] = (reasons[code] ?? 0) + 1;
  };
  const tablets: Tablet[] = [];
  for (let i = 0; i < Number(count); i++) {
    const tablet = new Tablet(url, onAck);
    await tablet.connect();
    tablets.push(tablet);
  }
  process.send({ type: 'ready' });
  await new Promise<void>((resolve) => process.once('message', () => resolve()));

  const periodMs = 1000 / Number(rate);
  const timers: NodeJS.Timeout[] = [];
  const end = Date.now() + Number(seconds) * 1000;
  tablets.forEach((tablet, i) => {
    // Random phases, so 200 tablets do not fire in step.
    const start = setTimeout(() => {
      const timer = setInterval(() => {
        if (Date.now() >= end) return clearInterval(timer);
        const { event, payload } = input(i);
        sent += 1;
        tablet.emit(event, payload);
      }, periodMs);
      timers.push(timer);
    }, Math.random() * periodMs);
    timers.push(start);
  });
  // Stragglers get two seconds after the end to be answered.
  await new Promise((r) => setTimeout(r, Number(seconds) * 1000 + 2000));
  for (const t of timers) clearInterval(t);
  const result: TabletsResult = {
    tablets: tablets.length,
    sent,
    acked,
    refused,
    refusedReasons: reasons,
    unanswered: sent - acked,
    stateEvents: tablets.reduce((n, t) => n + t.stateEvents, 0),
    ackP50: histogram.percentile(50),
    ackP95: histogram.percentile(95),
    ackP99: histogram.percentile(99),
    ackMax,
  };
  process.send({ type: 'result', result });
  for (const t of tablets) t.close();
  setTimeout(() => process.exit(0), 200);
}

if (process.argv[1]?.endsWith('load-tablets.ts')) {
  main().catch((err: Error) => {
    console.error(err.stack);
    process.exit(1);
  });
}
