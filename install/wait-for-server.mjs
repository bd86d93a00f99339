/**
 * ExecStartPre of the display unit: waits until the server's /health answers and the
 * desktop's display server is up, so Chromium never opens on an error page and does not
 * crash-loop while the kiosk session is still logging in. Plain JavaScript (no tsx), so
 * it starts fast. Usage: node wait-for-server.mjs URL [TIMEOUT_SECONDS]
 * Exit 0 when both are there, 1 after the timeout (systemd then restarts the unit).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const [url, timeoutArg = '300'] = process.argv.slice(2);
if (!url) {
  console.error('usage: node wait-for-server.mjs http://127.0.0.1:8080 [timeout-seconds]');
  process.exit(2);
}
const deadline = Date.now() + Number(timeoutArg) * 1000;

/** Polls `ready()` once a second until it returns a truthy note or the deadline passes. */
async function waitFor(what, ready) {
  let said = false;
  while (Date.now() < deadline) {
    const note = await ready().catch((err) => {
      if (!said) console.log(`waiting for ${what} (${err.cause?.code ?? err.message})`);
      said = true;
      return null;
    });
    if (note) {
      console.log(`${what}: ${note}`);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  console.error(`gave up waiting for ${what} after ${timeoutArg} s`);
  process.exit(1);
}

const health = new URL('/health', url);
await waitFor(`the server at ${health}`, async () => {
  const res = await fetch(health, { signal: AbortSignal.timeout(3000) });
  const body = await res.json();
  if (typeof body?.status !== 'string') throw new Error(`unexpected answer (HTTP ${res.status})`);
  return body.status;
});

// Wayland when the session exported a compositor socket, else the X server of $DISPLAY.
const { WAYLAND_DISPLAY, XDG_RUNTIME_DIR, DISPLAY } = process.env;
const x = /^:(\d+)/.exec(DISPLAY ?? '');
const socket = WAYLAND_DISPLAY ? join(XDG_RUNTIME_DIR ?? '/run/user', WAYLAND_DISPLAY) : x ? `/tmp/.X11-unix/X${x[1]}` : null;
if (socket) {
  await waitFor(`the display server (${socket})`, async () => {
    if (!existsSync(socket)) throw new Error('not there yet; is the kiosk user logged in?');
    return 'up';
  });
}
