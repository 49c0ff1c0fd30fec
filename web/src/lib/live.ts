import { useSyncExternalStore } from 'react';
import type { Activation } from './types';

export type LiveStatus = 'connecting' | 'open' | 'down';

/**
 * The user's activation updates over Server-Sent Events (`GET /api/events`, event `activation`).
 * EventSource retries network drops by itself; when the server refuses the stream (readyState
 * CLOSED, e.g. a restart mid-handshake) we reopen it with backoff. While the status is `down`,
 * screens that show a live activation poll it instead (see ActivationCard).
 */
export class LiveFeed {
  private source: EventSource | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private retryDelay = 1000;
  private current: LiveStatus = 'connecting';
  private readonly activationListeners = new Set<(activation: Activation) => void>();
  private readonly statusListeners = new Set<() => void>();
  private readonly reopenListeners = new Set<() => void>();
  private everOpened = false;

  constructor(private readonly url: () => string | null) {}

  get status(): LiveStatus {
    return this.current;
  }

  start(): void {
    this.stop();
    const url = this.url();
    if (!url || typeof EventSource === 'undefined') {
      this.setStatus('down');
      return;
    }
    this.setStatus('connecting');
    const source = new EventSource(url);
    this.source = source;
    source.onopen = () => {
      this.retryDelay = 1000;
      this.setStatus('open');
      // Events sent while we were away are lost: let screens refetch what they show.
      if (this.everOpened) for (const listener of this.reopenListeners) listener();
      this.everOpened = true;
    };
    source.onerror = () => {
      this.setStatus('down');
      if (source.readyState === EventSource.CLOSED) {
        source.close();
        this.source = null;
        this.retryTimer = setTimeout(() => this.start(), this.retryDelay);
        this.retryDelay = Math.min(this.retryDelay * 2, 30_000);
      }
    };
    source.addEventListener('activation', (event) => {
      let activation: Activation;
      try {
        const parsed = JSON.parse((event as MessageEvent<string>).data) as Activation | { activation: Activation };
        activation = 'activation' in parsed ? parsed.activation : parsed;
      } catch {
        return;
      }
      for (const listener of this.activationListeners) listener(activation);
    });
  }

  stop(): void {
    clearTimeout(this.retryTimer);
    this.source?.close();
    this.source = null;
  }

  /** Every activation change pushed by the server. Returns an unsubscribe function. */
  onActivation(listener: (activation: Activation) => void): () => void {
    this.activationListeners.add(listener);
    return () => this.activationListeners.delete(listener);
  }

  /** The stream came back after a drop: refetch whatever may have changed meanwhile. */
  onReopen(listener: () => void): () => void {
    this.reopenListeners.add(listener);
    return () => this.reopenListeners.delete(listener);
  }

  subscribeStatus = (listener: () => void): (() => void) => {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  };

  private setStatus(status: LiveStatus): void {
    if (status === this.current) return;
    this.current = status;
    for (const listener of this.statusListeners) listener();
  }
}

export function useLiveStatus(feed: LiveFeed): LiveStatus {
  return useSyncExternalStore(feed.subscribeStatus, () => feed.status);
}
