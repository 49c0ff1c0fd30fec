import type Redis from 'ioredis';
import { randomToken, sha256Hex } from './tokens';

/** What a ticket stands for: the user and the token version of the access token that asked for it. */
export interface StreamTicketOwner {
  userId: string;
  tokenVersion: number;
}

const TICKET = /^[A-Za-z0-9_-]{43}$/;

/**
 * One-use tickets for the SSE stream (`GET /api/events?ticket=`): EventSource cannot send an
 * Authorization header, and an access token in a URL outlives the request in browser history,
 * proxy logs and Referer headers. A ticket is 32 random bytes, asked for with the bearer token
 * just before connecting, kept in Redis (under REDIS_PREFIX, by its SHA-256 so a Redis dump holds
 * no usable ticket) for a few seconds, and taken with GETDEL: two connections racing with one
 * ticket cannot both get it, and a ticket seen in a log is already spent.
 */
export class StreamTickets {
  constructor(private readonly deps: { redis: Redis; prefix: string; ttlSeconds: number }) {}

  get ttlSeconds(): number {
    return this.deps.ttlSeconds;
  }

  private key(ticket: string): string {
    return `${this.deps.prefix}:sse-ticket:${sha256Hex(ticket)}`;
  }

  async issue(owner: StreamTicketOwner): Promise<string> {
    const ticket = randomToken(32);
    await this.deps.redis.set(this.key(ticket), JSON.stringify(owner), 'EX', this.deps.ttlSeconds);
    return ticket;
  }

  /** The owner of a ticket not yet used nor expired, or null; the ticket is gone either way. */
  async consume(ticket: string): Promise<StreamTicketOwner | null> {
    if (!TICKET.test(ticket)) return null;
    const stored = await this.deps.redis.getdel(this.key(ticket));
    if (stored === null) return null;
    const owner = JSON.parse(stored) as Partial<StreamTicketOwner>;
    return typeof owner.userId === 'string' && typeof owner.tokenVersion === 'number' ? { userId: owner.userId, tokenVersion: owner.tokenVersion } : null;
  }
}
