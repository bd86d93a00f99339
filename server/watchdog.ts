/**
 * systemd's readiness and watchdog protocol, without a native addon: Node cannot send
 * unix datagrams, so each message goes through `systemd-notify`, which waits until the
 * service manager has read it (so the short-lived sender is still alive when systemd
 * checks where it came from; the unit needs NotifyAccess=all).
 *
 * The watchdog is fed only while frames really advance, or while the server idles on
 * purpose (closed hours, no display yet). A frame path that hangs or fails on every
 * frame stops the feeding, and systemd restarts the server after WatchdogSec.
 */
import { execFile } from 'node:child_process';
import { logger } from './log.js';

const log = logger('watchdog');

export interface Progress {
  /** A counter that grows with every good frame. */
  frames(): number;
  /** True while the server makes no frames on purpose. */
  idle(): boolean;
  /** One line for `systemctl status`. */
  status(): string;
}

export class SystemdNotifier {
  private timer: NodeJS.Timeout | null = null;
  private lastFrames = -1;
  private stalled = false;
  private wasIdle = true;
  private sending = false;
  private broken = false;

  private constructor(
    private readonly env: NodeJS.ProcessEnv,
    /** Feed interval in ms, or null when systemd runs no watchdog for us. */
    readonly intervalMs: number | null,
    private readonly command: string,
  ) {}

  /** A notifier when systemd started us with a notify socket, else null (plain `npm start`, tests). */
  static fromEnv(env: NodeJS.ProcessEnv = process.env, command = 'systemd-notify'): SystemdNotifier | null {
    if (!env.NOTIFY_SOCKET) return null;
    const usec = Number(env.WATCHDOG_USEC);
    const forUs = !env.WATCHDOG_PID || Number(env.WATCHDOG_PID) === process.pid;
    // Feed three times per period, so one late or lost message never trips it.
    const interval = Number.isFinite(usec) && usec > 0 && forUs ? Math.max(50, usec / 1000 / 3) : null;
    // A snapshot: the socket systemd gave us at start is the one to keep talking to.
    return new SystemdNotifier({ ...env }, interval, command);
  }

  ready(status: string): Promise<boolean> {
    return this.send(['READY=1', `STATUS=${status}`]);
  }

  /** Starts feeding the watchdog (if systemd asked for one) as long as `progress` advances. */
  watch(progress: Progress): void {
    if (this.intervalMs === null || this.timer) return;
    this.timer = setInterval(() => void this.tick(progress), this.intervalMs);
    this.timer.unref();
    log.info({ intervalMs: Math.round(this.intervalMs) }, 'feeding the systemd watchdog while frames advance');
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /**
   * One check: feed if frames advanced since the last check or the server idles on
   * purpose. The first check after idling also feeds: the first frame may still be on its way.
   */
  async tick(progress: Progress): Promise<boolean> {
    const frames = progress.frames();
    const advanced = frames > this.lastFrames;
    const idle = progress.idle();
    const waking = this.wasIdle && !idle;
    this.lastFrames = frames;
    this.wasIdle = idle;
    if (!advanced && !idle && !waking) {
      if (!this.stalled) log.error({ frames }, 'frames stopped advancing; not feeding the watchdog, systemd will restart the server');
      this.stalled = true;
      return false;
    }
    if (this.stalled) log.info({ frames }, 'frames advance again');
    this.stalled = false;
    return this.send(['WATCHDOG=1', `STATUS=${progress.status()}`]);
  }

  private send(assignments: string[]): Promise<boolean> {
    if (this.sending || this.broken) return Promise.resolve(false);
    this.sending = true;
    return new Promise((resolve) => {
      execFile(this.command, assignments, { env: this.env, timeout: 10_000 }, (err, _stdout, stderr) => {
        this.sending = false;
        if (!err) return resolve(true);
        const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
        // Without systemd-notify the watchdog cannot be fed at all: say so once, loudly.
        if (missing) this.broken = true;
        log.error({ command: this.command, err: missing ? 'not found (install systemd)' : String(stderr || err.message).trim() }, 'systemd notification failed');
        resolve(false);
      });
    });
  }
}
