/** Polling until a condition holds, for tests that wait on another process or a browser. */

/** Polls `read` until `check` holds its value; returns how long that took (ms). Fails after `timeoutMs`, naming `what` and the last value. */
export async function until<T>(read: () => Promise<T> | T, check: (v: T) => boolean, timeoutMs: number, what: string, everyMs = 20): Promise<number> {
  const start = Date.now();
  let last: T | undefined;
  while (Date.now() - start < timeoutMs) {
    last = await read();
    if (check(last)) return Date.now() - start;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`${what}: not within ${timeoutMs} ms (last: ${JSON.stringify(last)?.slice(0, 300)})`);
}

/** Resolves once `check` holds; fails after `timeoutMs` with what it was waiting for. */
export async function waitUntil(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000, everyMs = 100): Promise<void> {
  await until(check, (ok) => ok, timeoutMs, what, everyMs);
}
