/**
 * Progress bars for long CLI work (conversion, dreaming, renders, videos), with rate
 * and ETA, on stderr. Off a terminal (logs, CI) cli-progress falls back to plain lines.
 */
import cliProgress from 'cli-progress';

export interface Bar {
  update(done: number, note?: string): void;
  stop(): void;
}

export function progressBar(label: string, total: number, unit = 'steps'): Bar {
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {percentage}% {value}/{total} ${unit} | {rate}/s | ETA {eta_formatted} {note}`,
      stream: process.stderr,
      noTTYOutput: true,
      notTTYSchedule: 5000,
      hideCursor: true,
      etaBuffer: 20,
    },
    cliProgress.Presets.shades_classic,
  );
  const started = performance.now();
  bar.start(total, 0, { note: '', rate: '0' });
  return {
    update(done, note = '') {
      const seconds = (performance.now() - started) / 1000;
      bar.update(done, { note, rate: seconds > 0 ? (done / seconds).toFixed(1) : '0' });
    },
    stop() {
      bar.stop();
    },
  };
}
