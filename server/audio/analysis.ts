/**
 * Audio analysis for the modulation matrix's audio sources (common/modulation.ts): from a
 * mono stream of samples, about 43 times a second, the level, three bands (low 20-250 Hz,
 * mid 250-2000 Hz, high above) and onsets (beats, hits), each 0..1.
 *
 * The spectrum and the RMS come from Meyda (a well-kept audio feature library); on top of
 * them: each figure is scaled by its own slowly decaying peak (with a floor, so silence stays
 * near 0 instead of amplifying the noise floor), and an onset is a peak of the spectral flux
 * (the summed rise of every frequency bin) above an adaptive threshold, at most one every
 * MIN_ONSET_GAP_S, shown as a pulse of 1 that decays within about a tenth of a second.
 */
import meydaModule from 'meyda';

// meyda is CommonJS with ES-style types: at run time the default import is the API itself,
// while its types describe it as `.default`; take whichever is there.
type MeydaApi = typeof meydaModule.default;
const Meyda: MeydaApi = (meydaModule as unknown as { default?: MeydaApi }).default ?? (meydaModule as unknown as MeydaApi);

export const SAMPLE_RATE = 22050;
export const FRAME = 1024;
export const HOP = 512;
/** How long before the end of the frame that reports an onset the hit was: it lies in the newest hop of the frame where the flux peaks, and the peak is seen (the flux falling) a hop later. */
export const ONSET_LAG_S = (1.5 * HOP) / SAMPLE_RATE;

export interface AudioFeatures {
  level: number;
  low: number;
  mid: number;
  high: number;
  onset: number;
}

const BANDS = { low: [20, 250], mid: [250, 2000], high: [2000, SAMPLE_RATE / 2] } as const;
/** A peak falls to half in this many seconds, so a quiet passage is scaled up again over time. */
const PEAK_HALF_LIFE_S = 10;
/** The smallest peaks the scaling assumes: quieter than this reads as nearly 0 (RMS of samples in -1..1; band magnitudes). */
const LEVEL_FLOOR = 0.02;
const BAND_FLOOR = 2;
const FLUX_FLOOR = 1;
/** Onset threshold: the flux's mean plus this many standard deviations over the last second. */
const ONSET_K = 2;
const MIN_ONSET_GAP_S = 0.1;
const ONSET_DECAY_S = 0.06;

export class AudioAnalyser {
  private readonly window = new Float32Array(FRAME);
  private filled = 0;
  private previousSpectrum: Float32Array | null = null;
  private readonly peaks = { level: LEVEL_FLOOR, low: BAND_FLOOR, mid: BAND_FLOOR, high: BAND_FLOOR };
  private readonly fluxHistory: number[] = [];
  private lastFlux = 0;
  private rising = false;
  private sinceOnset = Infinity;
  private pulse = 0;
  private readonly hopSeconds = HOP / SAMPLE_RATE;
  private readonly decay = Math.pow(0.5, HOP / SAMPLE_RATE / PEAK_HALF_LIFE_S);
  /** Onsets found since the start (tests and benches count them). */
  onsets = 0;
  /** Samples taken in so far; inside `emit`, the newest frame ends here. */
  position = 0;

  constructor() {
    Meyda.bufferSize = FRAME;
    Meyda.sampleRate = SAMPLE_RATE;
  }

  /** Feeds samples (mono, -1..1); calls `emit` once per hop with the features of the newest frame. */
  push(samples: Float32Array, emit: (features: AudioFeatures) => void): void {
    let i = 0;
    while (i < samples.length) {
      const take = Math.min(FRAME - this.filled, samples.length - i);
      this.window.set(samples.subarray(i, i + take), this.filled);
      this.filled += take;
      this.position += take;
      i += take;
      if (this.filled === FRAME) {
        emit(this.frame());
        this.window.copyWithin(0, HOP);
        this.filled = FRAME - HOP;
      }
    }
  }

  private frame(): AudioFeatures {
    const features = Meyda.extract(['rms', 'amplitudeSpectrum'], this.window) as unknown as { rms: number; amplitudeSpectrum: Float32Array };
    const spectrum = features.amplitudeSpectrum;
    const binHz = SAMPLE_RATE / FRAME;
    const band = ([lo, hi]: readonly [number, number]) => {
      let sum = 0;
      for (let b = Math.max(1, Math.floor(lo / binHz)); b < Math.min(spectrum.length, Math.ceil(hi / binHz)); b++) sum += spectrum[b]!;
      return sum;
    };
    const scaled = (key: keyof typeof this.peaks, value: number, floor: number) => {
      this.peaks[key] = Math.max(floor, this.peaks[key] * this.decay, value);
      return Math.min(1, value / this.peaks[key]);
    };
    const level = scaled('level', features.rms, LEVEL_FLOOR);
    const low = scaled('low', band(BANDS.low), BAND_FLOOR);
    const mid = scaled('mid', band(BANDS.mid), BAND_FLOOR);
    const high = scaled('high', band(BANDS.high), BAND_FLOOR);
    return { level, low, mid, high, onset: this.onset(spectrum) };
  }

  /** Spectral flux peak picking (see the header). */
  private onset(spectrum: Float32Array): number {
    let flux = 0;
    const previous = this.previousSpectrum;
    if (previous) for (let b = 0; b < spectrum.length; b++) flux += Math.max(0, spectrum[b]! - previous[b]!);
    this.previousSpectrum = Float32Array.from(spectrum);
    const history = this.fluxHistory;
    const mean = history.length ? history.reduce((a, b) => a + b, 0) / history.length : 0;
    const sd = history.length ? Math.sqrt(history.reduce((a, b) => a + (b - mean) ** 2, 0) / history.length) : 0;
    history.push(flux);
    if (history.length > Math.round(1 / this.hopSeconds)) history.shift();

    this.sinceOnset += this.hopSeconds;
    this.pulse *= Math.exp(-this.hopSeconds / ONSET_DECAY_S);
    // A peak: the flux was rising and above the threshold, and now falls.
    const threshold = Math.max(FLUX_FLOOR, mean + ONSET_K * sd);
    if (this.rising && flux < this.lastFlux && this.lastFlux > threshold && this.sinceOnset >= MIN_ONSET_GAP_S) {
      this.onsets++;
      this.sinceOnset = 0;
      this.pulse = 1;
    }
    this.rising = flux > this.lastFlux;
    this.lastFlux = flux;
    return this.pulse;
  }
}
