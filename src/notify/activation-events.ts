import type Redis from 'ioredis';

/** Redis channel the worker publishes to and every API instance's SSE hub listens on. */
export const ACTIVATION_EVENTS_CHANNEL = 'simgate:activation-events';

export interface ActivationEvent {
  userId: string;
  activationId: string;
}

export interface ActivationEventPublisher {
  publish(event: ActivationEvent): Promise<void>;
}

export function redisActivationEvents(redis: Redis): ActivationEventPublisher {
  return {
    async publish(event) {
      await redis.publish(ACTIVATION_EVENTS_CHANNEL, JSON.stringify(event));
    },
  };
}
