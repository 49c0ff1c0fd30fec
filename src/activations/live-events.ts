import type Redis from 'ioredis';
import type { Logger } from '../lib/logger';
import type { ActivationDto } from './read-model';

/**
 * Redis channel the worker publishes to and every API instance's hub listens on: under the
 * deployment's REDIS_PREFIX, so two deployments sharing one Redis never see each other's events.
 */
export const activationEventsChannel = (redisPrefix: string) => `${redisPrefix}:activation-events`;

/** An activation changed: the workflow's own view at that moment travels with it. */
export interface ActivationEvent {
  userId: string;
  activationId: string;
  activation: ActivationDto;
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

/**
 * Fans activation changes out to their owner's open streams. One Redis subscription per API
 * process; the event already carries the view, so the hub only checks whose it is and forwards.
 */
export class ActivationEventHub {
  private readonly streams = new Map<string, Set<LiveStream>>();
  private heartbeat: NodeJS.Timeout | null = null;

  constructor(private readonly deps: { subscriber: Redis; logger: Logger; redisPrefix: string }) {}

  async start(): Promise<void> {
    const channel = activationEventsChannel(this.deps.redisPrefix);
    await this.deps.subscriber.subscribe(channel);
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
    const set = this.streams.get(event.userId);
    if (!set || set.size === 0) return;
    const frame = `event: activation\ndata: ${JSON.stringify(event.activation)}\n\n`;
    for (const stream of set) stream(frame);
  }

  private broadcast(frame: string) {
    for (const set of this.streams.values()) for (const stream of set) stream(frame);
  }
}
