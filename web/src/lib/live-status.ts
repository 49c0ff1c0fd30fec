/** The live stream's state as people see it. Pure: unit-tested in Node (test/unit/web-live.test.ts). */

export type LiveStatus = 'connecting' | 'open' | 'down';

export interface LiveBanner {
  tone: 'offline' | 'reconnecting';
  text: string;
}

/**
 * What the page says about the stream. Nothing while it is open or still connecting for the
 * first time (a fresh page should not flash a warning); "offline" wins over "reconnecting"
 * because it tells the person what to fix.
 */
export function liveBanner(status: LiveStatus, online: boolean, everOpened = true): LiveBanner | null {
  if (!online) return { tone: 'offline', text: 'You are offline. Live updates resume when your connection is back.' };
  if (status === 'down' || (status === 'connecting' && everOpened)) {
    return {
      tone: 'reconnecting',
      text: 'Live updates reconnecting… Numbers you are watching are checked every few seconds meanwhile.',
    };
  }
  return null;
}

/** Short label next to a live activation: "Live", "Connecting…", "Reconnecting…", "Offline". */
export function liveLabel(status: LiveStatus, online: boolean, everOpened = true): string {
  if (!online) return 'Offline';
  if (status === 'open') return 'Live';
  if (status === 'connecting' && !everOpened) return 'Connecting…';
  return 'Reconnecting…';
}

/** Delay before the n-th (0-based) reconnect attempt: 1 s doubling to 30 s. */
export function reconnectDelay(attempt: number): number {
  return Math.min(1000 * 2 ** Math.max(0, attempt), 30_000);
}
