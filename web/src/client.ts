import { useSyncExternalStore } from 'react';
import { ApiClient } from '../../ui/api';
import type { LedgerEntry, Wallet } from '../../ui/types';
import { LiveFeed } from './lib/live';

/** The customer app's API client, live activation feed and wallet balance (one of each per page). */
export const api = new ApiClient('simgate.token');
export const feed = new LiveFeed(
  () => api.eventsUrl(),
  () => api.get('/auth/me'),
);

/**
 * The balance in the top bar. Refreshed after a purchase, on every activation change (holds,
 * captures and refunds move money) and whenever the wallet page loads; a failed refresh keeps the
 * last known figures.
 */
class BalanceStore {
  private value: Wallet | null = null;
  private readonly listeners = new Set<() => void>();
  private timer: ReturnType<typeof setTimeout> | undefined;

  get current(): Wallet | null {
    return this.value;
  }

  set(wallet: Wallet | null): void {
    if (wallet && this.value && wallet.availableMicros === this.value.availableMicros && wallet.heldMicros === this.value.heldMicros) return;
    this.value = wallet;
    for (const listener of this.listeners) listener();
  }

  refresh(): Promise<void> {
    return api.get<{ wallet: Wallet; ledger: LedgerEntry[] }>('/wallet', { query: { limit: 1 } }).then(
      (r) => this.set(r.wallet),
      () => undefined,
    );
  }

  /** Several events in a burst (hold, number, SMS, capture) → one request. */
  refreshSoon(delayMs = 150): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.refresh(), delayMs);
  }

  subscribe = (listener: () => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };
}

export const balance = new BalanceStore();
feed.onActivation(() => balance.refreshSoon());
feed.onReopen(() => balance.refreshSoon());

export function useBalance(): Wallet | null {
  return useSyncExternalStore(balance.subscribe, () => balance.current);
}

/** navigator.onLine as state. */
const onlineListeners = new Set<() => void>();
if (typeof window !== 'undefined') {
  const notify = () => onlineListeners.forEach((l) => l());
  window.addEventListener('online', notify);
  window.addEventListener('offline', notify);
}
export function useOnline(): boolean {
  return useSyncExternalStore(
    (listener) => {
      onlineListeners.add(listener);
      return () => onlineListeners.delete(listener);
    },
    () => navigator.onLine !== false,
  );
}
