/**
 * The kiosk installer, for real but harmless: shellcheck on the scripts, a dry run into
 * a temporary HOME (units and config written there, no system command run), the units
 * it writes checked by `systemd-analyze --user verify`, and the refusals: an invalid
 * configuration, a missing Chromium, --home without --dry-run. Uninstall removes what
 * install wrote.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT_DIR } from '../../server/config.js';

const INSTALL = join(ROOT_DIR, 'install', 'install.sh');
const UNITS = ['portraits.service', 'portraits-display.service'];
const scratch = mkdtempSync(join(tmpdir(), 'portraits-install-'));

/** Tools the kiosk tests need (install/test-packages.txt); missing outside CI: skip with a reason. */
function tool(name: string): boolean {
  if (spawnSync('sh', ['-c', `command -v ${name}`]).status === 0) return true;
  const why = `${name} is not installed (apt-get install -y ${name === 'systemd-analyze' ? 'systemd' : name})`;
  if (process.env.CI === 'true') throw new Error(`CI=true but ${why}`);
  console.warn(`skipped: ${why}`);
  return false;
}

/** A PATH where npm, systemctl, loginctl, xset and gsettings only leave a mark: a dry run must call none of them. */
function tripwirePath(): { path: string; marks: string } {
  const dir = join(scratch, 'tripwire');
  const marks = join(scratch, 'tripwire.log');
  mkdirSync(dir, { recursive: true });
  for (const name of ['npm', 'systemctl', 'loginctl', 'xset', 'gsettings']) {
    writeFileSync(join(dir, name), `#!/bin/sh\necho "${name} $*" >> '${marks}'\nexit 1\n`);
    chmodSync(join(dir, name), 0o755);
  }
  return { path: `${dir}:${process.env.PATH}`, marks };
}

function install(args: string[], env: Record<string, string> = {}) {
  const trip = tripwirePath();
  const r = spawnSync('bash', [INSTALL, ...args], { env: { ...process.env, PATH: trip.path, ...env }, encoding: 'utf8', timeout: 60_000 });
  const called = existsSync(trip.marks) ? readFileSync(trip.marks, 'utf8') : '';
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, called };
}

/**
 * `systemd-analyze --user verify`, which needs a runtime dir even offline. Returns the
 * problems it printed ('' when clean). Unknown keys are only warnings to systemd (exit 0),
 * so any output counts as a problem.
 */
function verifyUnits(home: string, files: string[]): { status: number | null; output: string } {
  const runtime = join(scratch, 'runtime');
  mkdirSync(runtime, { recursive: true, mode: 0o700 });
  const r = spawnSync('systemd-analyze', ['--user', 'verify', ...files], {
    env: { ...process.env, HOME: home, XDG_RUNTIME_DIR: runtime, SYSTEMD_LOG_COLOR: '0' },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: r.status, output: (r.stdout + r.stderr).trim() };
}

describe('install/install.sh', () => {
  const home = join(scratch, 'home');
  const unitDir = join(home, '.config', 'systemd', 'user');
  const config = join(home, '.config', 'portraits', 'config.json');
  let dry: ReturnType<typeof install>;

  beforeAll(() => {
    dry = install(['--dry-run', '--home', home, '--watchdog-sec', '45']);
  });

  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('passes shellcheck', () => {
    if (!tool('shellcheck')) return;
    const scripts = readdirSync(join(ROOT_DIR, 'install')).filter((f) => f.endsWith('.sh')).map((f) => join(ROOT_DIR, 'install', f));
    expect(scripts.length).toBeGreaterThan(0);
    const r = spawnSync('shellcheck', ['--severity=style', ...scripts], { encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('a dry run prints the system commands instead of running them', () => {
    expect(dry.stderr).not.toMatch(/^error:/m);
    expect(dry.status).toBe(0);
    expect(dry.called).toBe('');
    for (const line of [
      /^\+ npm --prefix \S+ ci --no-audit --no-fund$/m,
      /^\+ npm --prefix \S+ run build$/m,
      /^\+ loginctl enable-linger \S+$/m,
      /^\+ systemctl --user daemon-reload$/m,
      /^\+ systemctl --user enable portraits\.service portraits-display\.service$/m,
      /^\+ systemctl --user restart portraits\.service portraits-display\.service$/m,
    ]) {
      expect(dry.stdout).toMatch(line);
    }
  });

  it('writes the example configuration and both units into the given HOME', () => {
    expect(JSON.parse(readFileSync(config, 'utf8'))).toEqual(JSON.parse(readFileSync(join(ROOT_DIR, 'install', 'portraits.example.json'), 'utf8')));
    const server = readFileSync(join(unitDir, 'portraits.service'), 'utf8');
    const display = readFileSync(join(unitDir, 'portraits-display.service'), 'utf8');
    expect(server + display).not.toMatch(/@[A-Z_]+@/);
    expect(server).toMatch(/^Type=notify$/m);
    expect(server).toMatch(/^NotifyAccess=all$/m);
    expect(server).toMatch(/^WatchdogSec=45$/m);
    expect(server).toMatch(/^Restart=always$/m);
    expect(server).toContain(`Environment=PORTRAITS_CONFIG=${config}`);
    expect(server).toContain(`WorkingDirectory=${ROOT_DIR.replace(/\/$/, '')}`);
    expect(server).toMatch(/^ExecStart=\/\S+\/node --import tsx server\/main\.ts$/m);
    expect(display).toMatch(/^ExecStartPre=\/\S+\/node \S+\/install\/wait-for-server\.mjs http:\/\/127\.0\.0\.1:8080 300$/m);
    expect(display).toMatch(/^ExecStart=\/\S+ --kiosk http:\/\/127\.0\.0\.1:8080\/ /m);
    expect(display).toMatch(/--ignore-gpu-blocklist/);
    expect(display).toMatch(/^Restart=always$/m);
  });

  it('systemd-analyze verifies the written units, and would catch a broken one', () => {
    if (!tool('systemd-analyze')) return;
    const good = verifyUnits(home, UNITS.map((u) => join(unitDir, u)));
    expect(good.output).toBe('');
    expect(good.status).toBe(0);
    // The same check on a unit with mistakes must complain: proves the check can fail.
    const brokenDir = join(scratch, 'broken');
    mkdirSync(brokenDir, { recursive: true });
    const broken = join(brokenDir, 'portraits.service');
    writeFileSync(broken, readFileSync(join(unitDir, 'portraits.service'), 'utf8').replace('Restart=always', 'Restart=sometimes').replace('WatchdogSec=', 'WatchdogSecs='));
    const bad = verifyUnits(home, [broken]);
    expect(bad.output).toMatch(/sometimes/);
    expect(bad.output).toMatch(/WatchdogSecs/);
  });

  it('keeps an existing configuration on a second run', () => {
    const mine = { port: 8181, fps: 12 };
    writeFileSync(config, JSON.stringify(mine));
    const again = install(['--dry-run', '--home', home, '--no-build']);
    expect(again.status).toBe(0);
    expect(again.stdout).toMatch(/kept the existing file/);
    expect(JSON.parse(readFileSync(config, 'utf8'))).toEqual(mine);
    expect(readFileSync(join(unitDir, 'portraits-display.service'), 'utf8')).toContain('--kiosk http://127.0.0.1:8181/');
  });

  it('refuses an invalid configuration, naming the key', () => {
    const bad = join(scratch, 'bad.json');
    writeFileSync(bad, JSON.stringify({ fps: 500, schedule: { days: { mon: [['9:00', '17:00']] } } }));
    const r = install(['--dry-run', '--home', join(scratch, 'home-bad'), '--config', bad, '--no-build']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^\s+fps: /m);
    expect(r.stderr).toMatch(/^\s+schedule\.days\.mon\.0\.0: expected a 24-hour time/m);
    expect(existsSync(join(scratch, 'home-bad', '.config', 'systemd', 'user', 'portraits.service'))).toBe(false);
  });

  it('refuses to go on without Chromium, and --home without --dry-run', () => {
    const r = install(['--dry-run', '--home', join(scratch, 'home-nochrome')], { PORTRAITS_CHROMIUM: '/nonexistent/chromium' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/Chromium not found/);
    const h = install(['--home', join(scratch, 'elsewhere')]);
    expect(h.status).toBe(1);
    expect(h.stderr).toMatch(/--home is only for --dry-run/);
    expect(h.called).toBe('');
  });

  it('uninstalls: units gone, configuration kept unless --purge', () => {
    const r = install(['--uninstall', '--dry-run', '--home', home]);
    expect(r.status).toBe(0);
    expect(r.called).toBe('');
    expect(r.stdout).toMatch(/^\+ systemctl --user disable --now portraits\.service portraits-display\.service$/m);
    for (const u of UNITS) expect(existsSync(join(unitDir, u))).toBe(false);
    expect(existsSync(config)).toBe(true);
    const purge = install(['--uninstall', '--purge', '--dry-run', '--home', home]);
    expect(purge.status).toBe(0);
    expect(existsSync(config)).toBe(false);
  });
});
