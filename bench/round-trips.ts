/**
 * SQL statements and Redis commands this process sends, counted where the drivers send them
 * (pg's `Client#query`, which Prisma's adapter and pools end in; ioredis' `sendCommand`, which
 * pipelines and scripts go through one command each). Unlike CPU-ms they do not move with the
 * machine's load: a statement added to the purchase path shows in any run. Other processes
 * (separate worker processes of a layout) are not counted.
 */
import Redis from 'ioredis';
import pg from 'pg';

export interface RoundTripCount {
  sql: number;
  redis: number;
}

export class RoundTrips {
  private static counting: RoundTrips | null = null;
  private sql = 0;
  private redis = 0;

  private constructor() {}

  /** Counts from now on; the drivers are wrapped once per process. */
  static install(): RoundTrips {
    if (RoundTrips.counting) return RoundTrips.counting;
    const counter = new RoundTrips();
    const query = pg.Client.prototype.query;
    pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
      counter.sql += 1;
      return (query as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof query;
    const sendCommand = Redis.prototype.sendCommand;
    Redis.prototype.sendCommand = function (this: Redis, ...args: Parameters<typeof sendCommand>) {
      counter.redis += 1;
      return sendCommand.apply(this, args);
    };
    RoundTrips.counting = counter;
    return counter;
  }

  snapshot(): RoundTripCount {
    return { sql: this.sql, redis: this.redis };
  }

  since(before: RoundTripCount): RoundTripCount {
    return { sql: this.sql - before.sql, redis: this.redis - before.redis };
  }
}
