/**
 * A small typed fan-out: `on` adds a listener and returns the function that removes it,
 * `emit` calls every listener in the order they were added. A listener added twice is
 * called once (the listeners are a set); one removed during an emit is not called after.
 *
 * With `onError`, a listener that throws is reported there and the others still run;
 * without it, the throw ends the emit and reaches the caller of `emit`.
 */
export class Emitter<Args extends unknown[]> {
  private readonly listeners = new Set<(...args: Args) => void>();

  constructor(private readonly onError?: (err: unknown) => void) {}

  on(listener: (...args: Args) => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  emit(...args: Args): void {
    for (const listener of this.listeners) {
      if (!this.onError) {
        listener(...args);
        continue;
      }
      try {
        listener(...args);
      } catch (err) {
        this.onError(err);
      }
    }
  }
}
