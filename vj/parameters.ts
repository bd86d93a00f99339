/**
 * The VJ page's list of every live parameter (common/parameters.ts): its value (for a routed
 * parameter, the VJ's own value as a bar and the modulated one as a line), its MIDI mapping,
 * and Learn / Unmap buttons. MIDI messages go through common/midi.ts's MidiMapper, the same
 * code the unit tests feed with device bytes; changes are coalesced to one patch per 30 ms
 * so a fast fader stays inside the socket's event budget.
 */
import { MidiMapper, controlLabel, type MidiAction, type MidiMapping } from '../common/midi.js';
import { liveParameters, midiTarget, parameterPatch, readParameter, type LiveParameter } from '../common/parameters.js';
import type { PageSocket } from '../common/socket-client.js';
import type { LiveState, PageState } from '../common/state.js';

const FLUSH_MS = 30;

interface Row {
  param: LiveParameter;
  tr: HTMLTableRowElement;
  bar: HTMLElement | null;
  line: HTMLElement | null;
  num: HTMLElement;
  mapping: HTMLElement;
  learn: HTMLButtonElement | null;
  unmap: HTMLButtonElement | null;
}

export interface ParameterPanel {
  /** Parameters the schema does not list: the running model's directions (from /api/tablet). */
  addParameters(params: readonly LiveParameter[]): void;
  /** One MIDI message from a device (vj/midi-input.ts) or a test. */
  midi(bytes: ArrayLike<number>): MidiAction | null;
  /** The mapper's last answer and the mappings as the page last saw them (tests, debugging). */
  readonly lastAction: MidiAction | null;
  readonly mappings: readonly MidiMapping[];
}

export function parameterPanel(socket: PageSocket, body: HTMLElement, log: HTMLElement): ParameterPanel {
  let state: LiveState | null = null;
  let bases: Record<string, number> = {};
  let lastAction: MidiAction | null = null;
  const mapper = new MidiMapper(midiTarget);
  const pending = new Map<string, unknown>();
  let timer: ReturnType<typeof setTimeout> | null = null;

  const flush = () => {
    timer = null;
    if (pending.size === 0) return;
    const patch = parameterPatch(pending);
    pending.clear();
    socket.emit('patch', patch, (ack) => {
      if (!ack.ok) log.textContent = `refused: ${ack.error}`;
    });
  };
  const send = (path: string, value: unknown) => {
    pending.set(path, value);
    timer ??= setTimeout(flush, FLUSH_MS);
  };
  const saveMappings = (mappings: MidiMapping[]) => {
    socket.emit('patch', { midi: { mappings } }, (ack) => {
      if (!ack.ok) log.textContent = `mapping refused: ${ack.error}`;
    });
    // Until the state comes back, the page works with the mappings it asked for.
    if (state) state = { ...state, midi: { mappings } };
    render();
  };

  /** A parameter's value in the state; a direction nobody has moved is at 0. */
  const valueOf = (path: string): unknown => {
    const v = state ? readParameter(state, path) : undefined;
    return v === undefined && state && path.startsWith('directions.') ? 0 : v;
  };
  /** What the VJ set: under a route, the base; otherwise the state's value. */
  const read = (path: string) => {
    if (path in bases) return bases[path];
    const v = valueOf(path);
    return typeof v === 'number' || typeof v === 'boolean' ? v : undefined;
  };

  const rows: Row[] = [];
  const addRow = (param: LiveParameter) => {
    const tr = document.createElement('tr');
    tr.dataset.path = param.path;
    const name = document.createElement('td');
    name.textContent = param.path;
    if (param.description) name.title = param.description;
    const value = document.createElement('td');
    value.className = 'value';
    let bar: HTMLElement | null = null;
    let line: HTMLElement | null = null;
    if (param.kind === 'float' || param.kind === 'int' || param.kind === 'bool') {
      const meter = document.createElement('span');
      meter.className = 'meter param';
      bar = document.createElement('i');
      line = document.createElement('b');
      line.hidden = true;
      meter.append(bar, line);
      value.append(meter);
    }
    const num = document.createElement('span');
    num.className = bar ? 'num' : 'num text';
    value.append(num);
    const mapping = document.createElement('td');
    mapping.className = 'mapping';
    const buttons = document.createElement('td');
    let learn: HTMLButtonElement | null = null;
    let unmap: HTMLButtonElement | null = null;
    if (param.kind !== 'enum') {
      learn = document.createElement('button');
      learn.type = 'button';
      learn.textContent = 'Learn';
      learn.setAttribute('aria-pressed', 'false');
      learn.addEventListener('click', () => {
        mapper.arm(mapper.learning === param.path ? null : param.path);
        log.textContent = mapper.learning ? `Move a knob, fader or pad for ${param.path}…` : '';
        render();
      });
      unmap = document.createElement('button');
      unmap.type = 'button';
      unmap.textContent = 'Unmap';
      unmap.addEventListener('click', () => saveMappings((state?.midi.mappings ?? []).filter((m) => m.target !== param.path)));
      buttons.append(learn, ' ', unmap);
    }
    tr.append(name, value, mapping, buttons);
    body.append(tr);
    rows.push({ param, tr, bar, line, num, mapping, learn, unmap });
  };
  liveParameters().forEach(addRow);

  const format = (v: unknown) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(3)) : String(v));
  const share = (param: LiveParameter, v: unknown) =>
    param.kind === 'bool' ? (v ? 1 : 0) : param.kind === 'enum' || typeof v !== 'number' ? 0 : (v - param.min) / (param.max - param.min || 1);
  const waitingFor = new Set<string>();

  function render(): void {
    if (!state) return;
    const mappings = state.midi.mappings;
    for (const row of rows) {
      const { param } = row;
      const shown = valueOf(param.path);
      const own = param.path in bases ? bases[param.path] : shown;
      row.num.textContent = format(shown);
      if (row.bar) row.bar.style.width = `${(100 * share(param, own)).toFixed(1)}%`;
      if (row.line) {
        // A routed parameter: the bar is the VJ's value, the line where the routes have moved it.
        row.line.hidden = !(param.path in bases);
        row.line.style.left = `${(100 * share(param, shown)).toFixed(1)}%`;
      }
      const mapped = mappings.find((m) => m.target === param.path);
      row.mapping.textContent = mapped ? controlLabel(mapped) + (waitingFor.has(param.path) ? ' (move to pick up)' : '') : '';
      row.tr.classList.toggle('learning', mapper.learning === param.path);
      row.tr.classList.toggle('waiting', waitingFor.has(param.path));
      row.learn?.setAttribute('aria-pressed', String(mapper.learning === param.path));
      if (row.unmap) row.unmap.disabled = !mapped;
    }
  }

  socket.on('state', (next: PageState) => {
    if (!next.midi || !next.modulation) return; // not the VJ's socket: the instruments are missing
    state = next as LiveState;
    render();
  });
  socket.on('meters', (meters) => {
    bases = meters.bases;
  });

  return {
    addParameters(params) {
      params.forEach(addRow);
      render();
    },
    midi(bytes) {
      if (!state) return null;
      const action = mapper.handle(bytes, state.midi.mappings, read);
      lastAction = action;
      if (!action) return null;
      if (action.kind === 'learned') {
        waitingFor.add(action.mapping.target);
        log.textContent = `${controlLabel(action.mapping)} → ${action.mapping.target}`;
        saveMappings(action.mappings);
      } else if (action.kind === 'set') {
        waitingFor.delete(action.path);
        send(action.path, action.value);
      } else {
        waitingFor.add(action.path);
        log.textContent = `${action.path}: move the control to ${(100 * action.value).toFixed(0)}% to pick it up (it is at ${(100 * action.knob).toFixed(0)}%)`;
        render();
      }
      return action;
    },
    get lastAction() {
      return lastAction;
    },
    get mappings() {
      return state?.midi.mappings ?? [];
    },
  };
}
