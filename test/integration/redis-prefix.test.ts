import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { ActivationEventHub, redisActivationEvents, type ActivationEvent } from '../../src/activations/live-events';
import { loadConfig } from '../../src/config/app.config';
import { createLogger } from '../../src/lib/logger';
import { waitFor } from '../support/wait';

/** Two deployments on one Redis: each one's keys and live events stay under its REDIS_PREFIX. */
describe('REDIS_PREFIX', () => {
  const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const connections: Redis[] = [];
  const connect = () => {
    const redis = new Redis(url);
    connections.push(redis);
    return redis;
  };
  afterAll(() => {
    for (const redis of connections) redis.disconnect();
  });

  it('puts the rate-limit, lockout and health keys under it unless they are set on their own', () => {
    const config = loadConfig({ REDIS_PREFIX: 'tenant-a' });
    expect(config.redisPrefix).toBe('tenant-a');
    expect(config.security.rateLimits.prefix).toBe('tenant-a:rl');
    expect(config.health.keyPrefix).toBe('tenant-a:health:');
    expect(loadConfig({ REDIS_PREFIX: 'tenant-a', RATE_LIMIT_PREFIX: 'custom' }).security.rateLimits.prefix).toBe('custom');
  });

  it("delivers a deployment's activation events to its own hubs only", async () => {
    const [a, b] = [`deploy-a-${randomUUID()}`, `deploy-b-${randomUUID()}`];
    const logger = createLogger('silent');
    const hubA = new ActivationEventHub({ subscriber: connect(), logger, redisPrefix: a });
    const hubB = new ActivationEventHub({ subscriber: connect(), logger, redisPrefix: b });
    await Promise.all([hubA.start(), hubB.start()]);
    const userId = randomUUID();
    const seenA: string[] = [];
    const seenB: string[] = [];
    hubA.subscribe(userId, (frame) => seenA.push(frame));
    hubB.subscribe(userId, (frame) => seenB.push(frame));

    const event = (id: string): ActivationEvent => ({ userId, activationId: id, activation: { id, userId } as ActivationEvent['activation'] });
    await redisActivationEvents(connect(), a).publish(event('from-a'));
    await waitFor(async () => seenA.length === 1, { timeoutMs: 3000, intervalMs: 20 });
    // B's hub had the same time to receive it (Redis delivers in publish order): a marker event of B's own arrives, A's never.
    await redisActivationEvents(connect(), b).publish(event('from-b'));
    await waitFor(async () => seenB.length === 1, { timeoutMs: 3000, intervalMs: 20 });
    expect(seenA.join('')).toContain('from-a');
    expect(seenB).toHaveLength(1);
    expect(seenB[0]).toContain('from-b');
    expect(seenA.join('')).not.toContain('from-b');
    await Promise.all([hubA.stop(), hubB.stop()]);
  });
});
