import { useSyncExternalStore } from 'react';
import { isSessionEnded } from '../../../ui/errors';
import type { Activation } from '../../../ui/types';
import { reconnectDelay, type LiveStatus } from './live-status';

export type { LiveStatus } from './live-status';

export interface LiveState {
  status: LiveStatus;
  online: boolean;
  everOpened: boolean;
}

/**
 * The user's activation updates over Server-Sent Events (`GET /api/events?ticket=`, event
 * `activation`). Every connection takes a new one-use ticket (`url()`), so on any error — a
 * network drop, a refused ticket, a restart mid-handshake — we close the stream, check the
 * session (`reauth`, which refreshes the token when needed) and reopen it with backoff. Going offline
 * and back online reconnects at once. While the status is not `open`, screens that show a live
 * activation poll it instead (see ActivationCard).
 */
export class LiveFeed {
  private source: EventSource | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private attempt = 0;
  private generation = 0;
  private running = false;
  private state: LiveState = { status: 'connecting', online: true, everOpened: false };
  private readonly activationListeners = new Set<(activation: Activation) => void>();
  private readonly statusListeners = new Set<() => void>();
  private readonly reopenListeners = new Set<() => void>();

  /**
   * @param url the stream's URL with a new one-use ticket, or null when signed out
   * @param reauth proves the session is still good (refreshing the token if not); rejects when it is over
   */
  constructor(
    private readonly url: () => Promise<string | null>,
    private readonly reauth: () => Promise<unknown> = async () => undefined,
  ) {
    if (typeof window !== 'undefined') {
      this.state = { ...this.state, online: navigator.onLine !== false };
      window.addEventListener('online', () => {
        this.update({ online: true });
        if (this.running) {
          this.attempt = 0;
          this.open();
        }
      });
      window.addEventListener('offline', () => this.update({ online: false }));
    }
  }

  get status(): LiveStatus {
    return this.state.status;
  }

  get snapshot(): LiveState {
    return this.state;
  }

  start(): void {
    this.running = true;
    this.attempt = 0;
    this.open();
  }

  stop(): void {
    this.running = false;
    this.generation += 1;
    clearTimeout(this.retryTimer);
    this.source?.close();
    this.source = null;
    this.state = { ...this.state, status: 'connecting', everOpened: false };
    this.emit();
  }

  private open(): void {
    const generation = ++this.generation;
    clearTimeout(this.retryTimer);
    this.source?.close();
    this.source = null;
    void this.connect(generation);
  }

  private async connect(generation: number): Promise<void> {
    let url: string | null;
    try {
      url = await this.url();
    } catch {
      url = null;
      if (generation === this.generation) this.retry(generation);
      return;
    }
    if (generation !== this.generation || !this.running) return;
    if (!url || typeof EventSource === 'undefined') {
      this.update({ status: 'down' });
      return;
    }
    if (this.state.status !== 'down') this.update({ status: 'connecting' });
    const source = new EventSource(url);
    this.source = source;
    source.onopen = () => {
      if (generation !== this.generation) return;
      this.attempt = 0;
      const reopened = this.state.everOpened;
      this.update({ status: 'open', everOpened: true });
      // Events sent while we were away are lost: let screens refetch what they show.
      if (reopened) for (const listener of this.reopenListeners) listener();
    };
    source.onerror = () => {
      if (generation !== this.generation) return;
      this.update({ status: 'down' });
      // EventSource's own reconnect would reuse the URL, whose one-use ticket is spent: reopen
      // ourselves with a new ticket instead.
      source.close();
      this.source = null;
      this.retry(generation);
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

  /** The stream was refused: make sure the session is alive (refreshing the token), then reopen after a backoff. */
  private retry(generation: number): void {
    const delay = reconnectDelay(this.attempt);
    this.attempt += 1;
    void this.reauth().then(
      () => this.schedule(generation, this.attempt === 1 ? 0 : delay),
      (error: unknown) => {
        // A session that is over signs the app out; anything else (offline, server down) retries.
        if (!isSessionEnded(error)) this.schedule(generation, delay);
      },
    );
  }

  private schedule(generation: number, delay: number): void {
    if (generation !== this.generation || !this.running) return;
    this.retryTimer = setTimeout(() => {
      if (generation === this.generation && this.running) this.open();
    }, delay);
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

  private update(patch: Partial<LiveState>): void {
    const next = { ...this.state, ...patch };
    if (next.status === this.state.status && next.online === this.state.online && next.everOpened === this.state.everOpened) return;
    this.state = next;
    this.emit();
  }

  private emit(): void {
    for (const listener of this.statusListeners) listener();
  }
}

export function useLiveStatus(feed: LiveFeed): LiveStatus {
  return useSyncExternalStore(feed.subscribeStatus, () => feed.status);
}

export function useLiveState(feed: LiveFeed): LiveState {
  return useSyncExternalStore(feed.subscribeStatus, () => feed.snapshot);
}
