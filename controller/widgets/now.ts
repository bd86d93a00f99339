/**
 * "On the screen now": a small live view of the portrait the display shows, so a visitor
 * steering from the tablet sees the result without turning to the screen and back. It polls
 * /api/now.jpg (server/inputs/now-showing.ts) about once a second while the page is visible,
 * and swaps the picture only once the next one has loaded, so it never flashes empty.
 */
const EVERY_MS = 1000;

export function nowShowing(figure: HTMLElement, img: HTMLImageElement): { stop(): void } {
  let url: string | null = null;
  let busy = false;
  const refresh = async () => {
    if (busy || document.hidden) return;
    busy = true;
    try {
      const res = await fetch('/api/now.jpg', { cache: 'no-store' });
      if (res.status !== 200) return;
      const next = URL.createObjectURL(await res.blob());
      const loaded = new Image();
      loaded.src = next;
      await loaded.decode();
      img.src = next;
      if (url) URL.revokeObjectURL(url);
      url = next;
      figure.hidden = false;
    } catch {
      // The server restarting or the Wi-Fi dropping: the last picture stays, the next tick retries.
    } finally {
      busy = false;
    }
  };
  void refresh();
  const timer = setInterval(() => void refresh(), EVERY_MS);
  document.addEventListener('visibilitychange', () => void refresh());
  return { stop: () => clearInterval(timer) };
}
