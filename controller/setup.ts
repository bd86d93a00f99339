/** The model, directions and dream styles the page builds itself from (GET /api/tablet), retried until the server answers. */
import type { TabletSetup } from '../common/protocol.js';

const RETRY_MS = 3000;

export async function loadSetup(): Promise<TabletSetup> {
  for (;;) {
    try {
      const response = await fetch('/api/tablet', { cache: 'no-cache' });
      if (response.ok) return (await response.json()) as TabletSetup;
      console.warn(`controller: /api/tablet answered ${response.status}; retrying`);
    } catch (error) {
      console.warn('controller: /api/tablet unreachable; retrying', error);
    }
    await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
  }
}
