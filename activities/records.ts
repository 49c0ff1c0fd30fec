import type { Db } from '../src/db/client';
import type { ActivationEventPublisher } from '../src/notify/activation-events';
import type { ActivationStatus, IncomingSms } from '../workflows/contracts';
import type { UpstreamPurchase } from './upstream';

/**
 * The activations table is the read model the API lists from; the workflow is the authority.
 * Every write is guarded by the state it expects, so a replayed activity changes nothing, and a
 * terminal activation is never reopened.
 */
export function createRecordActivities(deps: { db: Db; events: ActivationEventPublisher }) {
  const { db } = deps;

  async function notify(activationId: string): Promise<void> {
    const row = await db.activation.findUnique({ where: { id: activationId }, select: { userId: true } });
    // Pub/sub is a hint to refresh; a lost message only delays the UI until its next poll.
    if (row) await deps.events.publish({ userId: row.userId, activationId }).catch(() => undefined);
  }

  return {
    async recordPurchase(input: { activationId: string; purchase: UpstreamPurchase; priceMicros: string; costMicros: string }): Promise<void> {
      const { purchase } = input;
      await db.$executeRaw`
        UPDATE activations SET status = 'ACTIVE', provider_id = ${purchase.providerId}, upstream_id = ${purchase.upstreamId},
          phone = ${purchase.phone}, price_micros = ${BigInt(input.priceMicros)}, cost_micros = ${BigInt(input.costMicros)},
          activated_at = ${new Date(purchase.boughtAt)}, expires_at = ${new Date(purchase.expiresAt)},
          cancel_allowed_at = ${new Date(purchase.cancelAllowedAt)}
        WHERE id = ${input.activationId} AND status = 'RESERVED'`;
      await notify(input.activationId);
    },

    async recordSms(input: { activationId: string; seq: number; sms: IncomingSms }): Promise<void> {
      await db.$executeRaw`
        INSERT INTO sms_messages (activation_id, seq, code, text, received_at)
        VALUES (${input.activationId}, ${input.seq}, ${input.sms.code}, ${input.sms.text}, ${new Date(input.sms.receivedAt)})
        ON CONFLICT (activation_id, seq) DO NOTHING`;
      await notify(input.activationId);
    },

    async recordOutcome(input: { activationId: string; status: ActivationStatus; reason: string | null }): Promise<void> {
      await db.$executeRaw`
        UPDATE activations SET status = ${input.status}::"ActivationStatus", failure_reason = ${input.reason}, ended_at = now()
        WHERE id = ${input.activationId} AND status IN ('RESERVED', 'ACTIVE')`;
      await notify(input.activationId);
    },
  };
}
