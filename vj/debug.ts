/**
 * Test and operations instrumentation, not an API: `window.__vj` lets an e2e test (or a person
 * at the console) see the mapper's last answer, the mappings and the meters the page drew.
 */
import type { MidiAction, MidiMapping } from '../common/midi.js';
import type { ModulationMeters } from '../common/modulation.js';
import type { MeterPanel } from './meters.js';
import type { ParameterPanel } from './parameters.js';

export interface VjDebug {
  readonly lastAction: MidiAction | null;
  readonly mappings: readonly MidiMapping[];
  readonly meters: ModulationMeters | null;
  readonly connected: boolean;
}

declare global {
  interface Window {
    __vj?: VjDebug;
  }
}

export function exposeVjDebug(parts: { params: ParameterPanel; meters: MeterPanel; connected: () => boolean }): void {
  window.__vj = {
    get lastAction() {
      return parts.params.lastAction;
    },
    get mappings() {
      return structuredClone(parts.params.mappings);
    },
    get meters() {
      return parts.meters.last;
    },
    get connected() {
      return parts.connected();
    },
  };
}
