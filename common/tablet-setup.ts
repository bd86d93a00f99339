/** The model, directions and dream styles the page builds itself from (GET /api/tablet), retried until the server answers. */
import type { TabletSetup } from './protocol.js';

const RETRY_MS = 3000;

export async function loadSetup(): Promise<TabletSetup> {
  for (;;) {
    try {
      const response = await fetch('/api/tablet', { cache: 'no-cache' });
      if (response.ok) return (await response.json()) as TabletSetup;
      console.warn(`/api/tablet answered ${response.status}; retrying`);
    } catch (error) {
      console.warn('/api/tablet unreachable; retrying', error);
    }
    await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
  }
}
