import type { Request, Response } from 'express';
import type Redis from 'ioredis';
import type { ActivationService } from '../../activations/activation.service';
import { ACTIVATION_EVENTS_CHANNEL, type ActivationEvent } from '../../notify/activation-events';
import type { Logger } from '../../lib/logger';
import { currentUser } from '../middleware/auth';

/**
 * Server-sent events for /api/events. One Redis subscription per API process fans activation
 * changes (published by the worker's activities) out to that user's open streams.
 */
export class ActivationEventHub {
  private readonly streams = new Map<string, Set<Response>>();
  private heartbeat: NodeJS.Timeout | null = null;

  constructor(private readonly deps: { subscriber: Redis; activations: ActivationService; logger: Logger }) {}

  async start(): Promise<void> {
    await this.deps.subscriber.subscribe(ACTIVATION_EVENTS_CHANNEL);
    this.deps.subscriber.on('message', (_channel: string, message: string) => {
      void this.dispatch(message);
    });
    // Comments keep proxies from closing idle streams.
    this.heartbeat = setInterval(() => this.broadcast(': keep-alive\n\n'), 25_000);
    this.heartbeat.unref();
  }

  async stop(): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    for (const set of this.streams.values()) for (const res of set) res.end();
    this.streams.clear();
  }

  handler = (req: Request, res: Response) => {
    const user = currentUser(req);
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache, no-transform', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    res.write('retry: 3000\n\n');
    const set = this.streams.get(user.id) ?? new Set<Response>();
    set.add(res);
    this.streams.set(user.id, set);
    req.on('close', () => {
      set.delete(res);
      if (set.size === 0) this.streams.delete(user.id);
    });
  };

  private async dispatch(message: string): Promise<void> {
    let event: ActivationEvent;
    try {
      event = JSON.parse(message) as ActivationEvent;
    } catch {
      return;
    }
    const set = this.streams.get(event.userId);
    if (!set || set.size === 0) return;
    try {
      const activation = await this.deps.activations.get(event.activationId, event.userId);
      const frame = `event: activation\ndata: ${JSON.stringify(activation)}\n\n`;
      for (const res of set) res.write(frame);
    } catch (error) {
      this.deps.logger.warn({ err: error, activationId: event.activationId }, 'could not push activation event');
    }
  }

  private broadcast(frame: string) {
    for (const set of this.streams.values()) for (const res of set) res.write(frame);
  }
}
