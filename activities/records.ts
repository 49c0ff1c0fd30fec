import type { Db } from '../src/db/client';
import type { ActivationEventPublisher } from '../src/activations/live-events';
import type { ActivationChange, PartnerEvents } from '../src/activations/partner-events';
import type { ProviderHealth } from '../src/providers/health';
import type { IncidentService } from '../src/providers/incidents.service';
import { metrics } from '../src/lib/metrics';
import { cleanText } from '../src/lib/text';
import type { ActivationStatus, ActivationView, IncomingSms } from '../workflows/contracts';
import type { UpstreamPurchase } from './upstream';

/**
 * The activations table is the read model the API lists from; the workflow is the authority.
 * Every write is guarded by the state it expects, so a replayed activity changes nothing, and a
 * terminal activation is never reopened.
 */
export function createRecordActivities(deps: {
  db: Db;
  events: ActivationEventPublisher;
  incidents: IncidentService;
  health?: Pick<ProviderHealth, 'recordPurchase' | 'recordSmsReceived'>;
  partnerEvents?: Pick<PartnerEvents, 'activationChanged'>;
}) {
  const { db, incidents } = deps;

  /**
   * After a write: pushes the workflow's view to the user's open pages (pub/sub), enqueues the
   * partner's webhook event and, for a purchase or a first SMS, feeds routing's delivery rate
   * (and, for a first SMS this attempt stored, the SMS latency metric). The workflow's view says
   * whose activation it is; the row is read only for what the view does not carry (its purchase
   * time, for the metric; the owner, for views of workflows from before views carried it).
   */
  async function afterWrite(activationId: string, view: ActivationView | undefined, change: ActivationChange, delivery?: 'purchase' | 'sms', firstSmsAt?: string): Promise<void> {
    // The purchase time is only in the row: a first SMS (the metric) always reads it.
    const row =
      view?.userId && view.createdAt && !firstSmsAt
        ? { userId: view.userId, providerId: view.providerId, serviceCode: view.serviceCode, countryIso: view.countryIso, createdAt: new Date(view.createdAt), activatedAt: null }
        : await db.activation.findUnique({ where: { id: activationId }, select: { userId: true, providerId: true, serviceCode: true, countryIso: true, createdAt: true, activatedAt: true } });
    if (!row) return;
    if (firstSmsAt) metrics.firstSms(row.providerId, row.activatedAt, firstSmsAt);
    // The two Redis writes are independent: side by side, since this step runs inside the
    // workflow task that the customer's request waits on.
    const statistics = async () => {
      if (!delivery || !deps.health || !row.providerId) return;
      const record = delivery === 'purchase' ? deps.health.recordPurchase : deps.health.recordSmsReceived;
      // Keyed by activation, so a retried activity counts once; statistics never fail a purchase
      // (a Redis outage only makes routing less informed).
      await record.call(deps.health, row.providerId, row.serviceCode, row.countryIso, { dedupeKey: activationId }).catch(() => undefined);
    };
    // A lost message only delays the UI until its next poll: never a reason to fail the step.
    // (A task scheduled by a workflow from before views travelled with records has none to push.)
    const push = async () => {
      if (!view) return;
      const activation = { ...view, userId: row.userId, createdAt: row.createdAt.toISOString() };
      await deps.events.publish({ userId: row.userId, activationId, activation }).catch(() => undefined);
      // Not swallowed: a partner's event must not be lost, and the activity's retry enqueues it idempotently.
      await deps.partnerEvents?.activationChanged(activation, change);
    };
    await Promise.all([statistics(), push()]);
  }

  return {
    async recordPurchase(input: { activationId: string; purchase: UpstreamPurchase; priceMicros: string; costMicros: string; view?: ActivationView }): Promise<void> {
      const { purchase } = input;
      const changed = await db.$executeRaw`
        UPDATE activations SET status = 'ACTIVE', provider_id = ${purchase.providerId}, upstream_id = ${purchase.upstreamId},
          phone = ${purchase.phone}, price_micros = ${BigInt(input.priceMicros)}, cost_micros = ${BigInt(input.costMicros)},
          activated_at = ${new Date(purchase.boughtAt)}, expires_at = ${new Date(purchase.expiresAt)},
          cancel_allowed_at = ${new Date(purchase.cancelAllowedAt)}
        WHERE id = ${input.activationId} AND status = 'RESERVED'`;
      if (changed === 1) metrics.numberBought(purchase.providerId);
      await afterWrite(input.activationId, input.view, { kind: 'purchase' }, 'purchase');
    },

    async recordSms(input: { activationId: string; seq: number; sms: IncomingSms; view?: ActivationView }): Promise<void> {
      // The edges clean provider text already; cleaned again here because a text PostgreSQL
      // refuses would fail this step on every retry, leaving the code shown and the hold held.
      // Valid text is stored as the workflow has it, so the read model and the view agree.
      const inserted = await db.$executeRaw`
        INSERT INTO sms_messages (activation_id, seq, code, text, received_at)
        VALUES (${input.activationId}, ${input.seq}, ${input.sms.code === null ? null : cleanText(input.sms.code)}, ${cleanText(input.sms.text)}, ${new Date(input.sms.receivedAt)})
        ON CONFLICT (activation_id, seq) DO NOTHING`;
      const firstStored = inserted === 1 && input.seq === 1;
      await afterWrite(input.activationId, input.view, { kind: 'sms', seq: input.seq }, input.seq === 1 ? 'sms' : undefined, firstStored ? input.sms.receivedAt : undefined);
    },

    /**
     * The database refused data an activation carried (DATA_INVALID): kept for admins as an
     * incident, once per activation, while the workflow ends it and settles the money.
     */
    async recordDataIncident(input: { activationId: string; providerId: string | null; upstreamId: string | null; activity: string | null; sqlState: string | null }): Promise<void> {
      await incidents.open('DATA_REJECTED', {
        providerId: input.providerId ?? 'none',
        upstreamId: input.upstreamId ?? input.activationId,
        activationId: input.activationId,
        details: { activity: input.activity, sqlState: input.sqlState },
      });
    },

    async recordOutcome(input: { activationId: string; status: ActivationStatus; reason: string | null; view?: ActivationView }): Promise<void> {
      const ended = await db.$executeRaw`
        UPDATE activations SET status = ${input.status}::"ActivationStatus", failure_reason = ${input.reason}, ended_at = now(),
          -- Cancelled or expired only once the provider confirmed: its cost came back to us.
          cost_recovered_micros = CASE WHEN ${input.status} IN ('CANCELLED', 'EXPIRED') AND upstream_id IS NOT NULL THEN cost_micros END
        WHERE id = ${input.activationId} AND status IN ('RESERVED', 'ACTIVE')`;
      if (ended === 1) metrics.purchaseEnded(input.status);
      await afterWrite(input.activationId, input.view, { kind: 'outcome' });
    },
  };
}
