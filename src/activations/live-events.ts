import type Redis from 'ioredis';
import type { Logger } from '../lib/logger';
import type { ActivationDto, ActivationNames, ActivationRecord } from './read-model';

/**
 * Redis channel the worker publishes to and every API instance's hub listens on: under the
 * deployment's REDIS_PREFIX, so two deployments sharing one Redis never see each other's events.
 */
export const activationEventsChannel = (redisPrefix: string) => `${redisPrefix}:activation-events`;

/** An activation changed: the workflow's own view at that moment travels with it. */
export interface ActivationEvent {
  userId: string;
  activationId: string;
  activation: ActivationRecord;
}

export interface ActivationEventPublisher {
  publish(event: ActivationEvent): Promise<void>;
}

export function redisActivationEvents(redis: Redis, redisPrefix: string): ActivationEventPublisher {
  const channel = activationEventsChannel(redisPrefix);
  return {
    async publish(event) {
      await redis.publish(channel, JSON.stringify(event));
    },
  };
}

/** Where the hub writes a user's frames: one open stream (an SSE response, in src/http). */
export type LiveStream = (frame: string) => void;

/** Looks up the catalog's names of a service and a country (ActivationReadModel.names). */
export type NameLookup = (serviceCode: string, countryIso: string) => Promise<ActivationNames>;

/** How long the hub trusts a looked-up name: services are renamed rarely, by a catalog sync. */
const NAME_TTL_MS = 10 * 60_000;
const NAME_CACHE_MAX = 5_000;

/**
 * Fans activation changes out to their owner's open streams. One Redis subscription per API
 * process; the event already carries the view, so the hub only checks whose it is, adds the
 * catalog's names (as every API answer has them) and forwards. Frames leave in the order their
 * events came: a name lookup delays the frames behind it, never reorders them.
 */
export class ActivationEventHub {
  private readonly streams = new Map<string, Set<LiveStream>>();
  private readonly numberWaiters = new Map<string, Set<(record: ActivationRecord) => void>>();
  private subscribed = false;
  private heartbeat: NodeJS.Timeout | null = null;
  private readonly names = new Map<string, { expires: number; names: Promise<ActivationNames> }>();
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly deps: { subscriber: Redis; logger: Logger; redisPrefix: string; names?: NameLookup }) {}

  async start(): Promise<void> {
    const channel = activationEventsChannel(this.deps.redisPrefix);
    await this.deps.subscriber.subscribe(channel);
    this.subscribed = true;
    this.deps.subscriber.on('message', (from: string, message: string) => {
      if (from === channel) this.dispatch(message);
    });
    // Comments keep proxies from closing idle streams.
    this.heartbeat = setInterval(() => this.broadcast(': keep-alive\n\n'), 25_000);
    this.heartbeat.unref();
  }

  async stop(): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.streams.clear();
    this.subscribed = false;
  }

  /** Subscribed and connected: an event published now reaches this hub (ioredis resubscribes after a reconnect). */
  listening(): boolean {
    return this.subscribed && this.deps.subscriber.status === 'ready';
  }

  /**
   * The activation's first published view past RESERVED — its number, or the failure that ended
   * the purchase. Register before starting the purchase's workflow, so no event can slip past;
   * `cancel` forgets the waiter (the caller stopped waiting).
   */
  awaitNumber(activationId: string): { record: Promise<ActivationRecord>; cancel(): void } {
    let resolve!: (record: ActivationRecord) => void;
    const record = new Promise<ActivationRecord>((r) => (resolve = r));
    const waiters = this.numberWaiters.get(activationId) ?? new Set();
    waiters.add(resolve);
    this.numberWaiters.set(activationId, waiters);
    return {
      record,
      cancel: () => {
        waiters.delete(resolve);
        if (waiters.size === 0 && this.numberWaiters.get(activationId) === waiters) this.numberWaiters.delete(activationId);
      },
    };
  }

  /** Registers one of the user's streams; returns what unregisters it. */
  subscribe(userId: string, stream: LiveStream): () => void {
    const set = this.streams.get(userId) ?? new Set<LiveStream>();
    set.add(stream);
    this.streams.set(userId, set);
    return () => {
      set.delete(stream);
      if (set.size === 0) this.streams.delete(userId);
    };
  }

  private dispatch(message: string): void {
    let event: ActivationEvent;
    try {
      event = JSON.parse(message) as ActivationEvent;
    } catch {
      this.deps.logger.warn('unparsable activation event ignored');
      return;
    }
    // The owner recorded with the activation decides, not the envelope alone.
    if (!event.activation || event.activation.userId !== event.userId) return;
    const waiters = this.numberWaiters.get(event.activationId);
    if (waiters && event.activation.status !== 'RESERVED') {
      this.numberWaiters.delete(event.activationId);
      for (const waiter of waiters) waiter(event.activation);
    }
    if (!this.streams.get(event.userId)?.size) return;
    const record = event.activation;
    const named = this.namesOf(record.serviceCode, record.countryIso);
    this.queue = this.queue.then(async () => {
      const activation: ActivationDto | ActivationRecord = named ? { ...record, ...(await named) } : record;
      const frame = `event: activation\ndata: ${JSON.stringify(activation)}\n\n`;
      for (const stream of this.streams.get(event.userId) ?? []) stream(frame);
    }).catch((error: unknown) => this.deps.logger.warn({ err: error }, 'activation event not forwarded'));
  }

  /** Cached lookups; a failed one is forgotten (the fallback names are the codes themselves). */
  private namesOf(serviceCode: string, countryIso: string): Promise<ActivationNames> | null {
    const lookup = this.deps.names;
    if (!lookup) return null;
    const key = `${serviceCode}|${countryIso}`;
    const now = Date.now();
    const cached = this.names.get(key);
    if (cached && cached.expires > now) return cached.names;
    if (this.names.size >= NAME_CACHE_MAX) this.names.clear();
    const names = lookup(serviceCode, countryIso).catch((error: unknown) => {
      this.names.delete(key);
      this.deps.logger.warn({ err: error }, 'catalog names unavailable for a live event');
      return { serviceName: serviceCode, countryName: countryIso, countryDial: '' };
    });
    this.names.set(key, { expires: now + NAME_TTL_MS, names });
    return names;
  }

  private broadcast(frame: string) {
    for (const set of this.streams.values()) for (const stream of set) stream(frame);
  }
}
