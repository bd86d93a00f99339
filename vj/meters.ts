/**
 * The modulation matrix, live: a meter and a sparkline (the last ~6 s) for each source and
 * for each route's effect on its parameter, from the server's 'meters' stream (15 a second).
 */
import { MOD_SOURCES, type ModulationMeters, type Route } from '../common/modulation.js';
import type { PageSocket } from '../common/socket-client.js';
import type { PageState } from '../common/state.js';

/** Samples kept per sparkline: 6 s at the stream's 15 a second. */
const HISTORY = 90;

interface Strip {
  bar: HTMLElement;
  num: HTMLElement;
  canvas: HTMLCanvasElement;
  history: number[];
  bipolar: boolean;
}

function strip(parent: HTMLElement, label: string, bipolar: boolean): Strip {
  const name = document.createElement('span');
  name.textContent = label;
  name.title = label;
  const meter = document.createElement('span');
  meter.className = bipolar ? 'meter bipolar' : 'meter';
  const bar = document.createElement('i');
  meter.append(bar);
  const canvas = document.createElement('canvas');
  canvas.className = 'spark';
  canvas.width = 240;
  canvas.height = 22;
  const num = document.createElement('span');
  num.className = 'num';
  parent.append(name, meter, canvas, num);
  return { bar, num, canvas, history: [], bipolar };
}

function draw(s: Strip, value: number): void {
  s.history.push(value);
  if (s.history.length > HISTORY) s.history.shift();
  s.num.textContent = value.toFixed(2);
  if (s.bipolar) {
    const w = Math.min(50, Math.abs(value) * 50);
    s.bar.style.left = value < 0 ? `${50 - w}%` : '50%';
    s.bar.style.width = `${w}%`;
  } else s.bar.style.width = `${Math.min(100, Math.max(0, value * 100))}%`;
  const g = s.canvas.getContext('2d');
  if (!g) return;
  const { width, height } = s.canvas;
  g.clearRect(0, 0, width, height);
  g.strokeStyle = '#7fb3d9';
  g.lineWidth = 1.5;
  g.beginPath();
  s.history.forEach((v, i) => {
    const x = (i / (HISTORY - 1)) * width;
    const y = s.bipolar ? height / 2 - (v * (height - 2)) / 2 : height - 1 - v * (height - 2);
    if (i === 0) g.moveTo(x, y);
    else g.lineTo(x, y);
  });
  g.stroke();
}

export interface MeterPanel {
  /** The newest meters the page drew (tests read it). */
  readonly last: ModulationMeters | null;
}

export function meterPanel(socket: PageSocket, sourcesEl: HTMLElement, routesEl: HTMLElement, noRoutes: HTMLElement): MeterPanel {
  const sources = new Map(MOD_SOURCES.map((s) => [s, strip(sourcesEl, s, false)] as const));
  let routes: Route[] = [];
  let routeStrips: Strip[] = [];
  let last: ModulationMeters | null = null;

  socket.on('state', (next: PageState) => {
    const now = next.modulation?.routes;
    if (!now || JSON.stringify(now) === JSON.stringify(routes)) return;
    routes = now;
    routesEl.replaceChildren();
    routeStrips = routes.map((r) => strip(routesEl, `${r.source} → ${r.target} ×${r.amount}`, true));
    noRoutes.hidden = routes.length > 0;
  });
  socket.on('meters', (meters) => {
    last = meters;
    for (const [name, s] of sources) draw(s, meters.sources[name]);
    routeStrips.forEach((s, i) => draw(s, meters.routes[i] ?? 0));
  });
  return {
    get last() {
      return last;
    },
  };
}
