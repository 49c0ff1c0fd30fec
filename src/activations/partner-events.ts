import { createHash } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { Db } from '../db/client';
import { referenceCountries } from '../catalog/reference-data';
import { AppError } from '../lib/errors';
import {
  WEBHOOK_DELIVERY_WORKFLOW_TYPE,
  webhookDeliveryWorkflowId,
  webhookEventSignal,
  type WebhookDeliveryInput,
  type WebhookEventRef,
  type WebhookRetryPolicy,
} from '../../workflows/contracts';
import type { ActivationRecord } from './read-model';

export const PARTNER_EVENT_TYPES = ['activation.active', 'sms.received', 'activation.completed', 'activation.expired', 'activation.cancelled', 'balance.low'] as const;
export type PartnerEventType = (typeof PARTNER_EVENT_TYPES)[number];

/** Which record activity wrote: the event follows from it and the workflow's view. */
export type ActivationChange = { kind: 'purchase' } | { kind: 'sms'; seq: number } | { kind: 'outcome' };

export interface WebhookDeliveryView {
  eventId: string;
  type: string;
  activationId: string | null;
  status: 'PENDING' | 'DELIVERED' | 'FAILED';
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  lastResponseMs: number | null;
  lastAttemptAt: string | null;
  deliveredAt: string | null;
  createdAt: string;
  /** The body as sent (and signed). */
  body: string;
}

const OUTCOME_EVENTS: Partial<Record<ActivationRecord['status'], PartnerEventType>> = {
  COMPLETED: 'activation.completed',
  EXPIRED: 'activation.expired',
  CANCELLED: 'activation.cancelled',
};

const smsActivateCountry = new Map(referenceCountries.map((country) => [country.iso2, country.smsActivateId]));

/**
 * Partner webhook events (docs/webhooks.md): written to webhook_deliveries under an id derived
 * from what happened, then handed to the endpoint's delivery workflow by signal-with-start. The
 * record activities call it after each write, next to the live-events publish; unlike that
 * publish, a failure here fails the activity, which is retried: the row and the signal are both
 * idempotent, so a retry neither loses nor doubles an event.
 */
export class PartnerEvents {
  constructor(private readonly deps: { db: Db; temporal: Client; taskQueue: string; retry: WebhookRetryPolicy }) {}

  /** A record activity wrote `activation` (the workflow's view, with its owner). */
  async activationChanged(activation: ActivationRecord, change: ActivationChange): Promise<void> {
    const type: PartnerEventType | undefined =
      change.kind === 'purchase' ? (activation.status === 'ACTIVE' ? 'activation.active' : undefined) : change.kind === 'sms' ? 'sms.received' : OUTCOME_EVENTS[activation.status];
    if (!type) return;
    const webhook = await this.endpointOf(activation.userId);
    if (!webhook) return;
    const sms = change.kind === 'sms' ? activation.messages.find((message) => message.seq === change.seq) : undefined;
    if (change.kind === 'sms' && !sms) return;
    const key = change.kind === 'sms' ? `${activation.id}:${type}:${change.seq}` : `${activation.id}:${type}`;
    const eventId = eventIdFor(webhook.id, key);
    let body: string;
    if (webhook.format === 'SMS_ACTIVATE') {
      // Tools written for SMS-Activate know one webhook: the SMS.
      if (!sms) return;
      body = JSON.stringify({
        activationId: activation.id,
        service: activation.serviceCode,
        text: sms.text,
        code: sms.code ?? '',
        country: smsActivateCountry.get(activation.countryIso) ?? activation.countryIso,
        receivedAt: smsActivateTime(sms.receivedAt),
      });
    } else {
      const createdAt = sms?.receivedAt ?? new Date().toISOString();
      body = JSON.stringify({ id: eventId, type, createdAt, data: { activation, ...(sms ? { sms } : {}) } });
    }
    await this.enqueue(webhook.id, activation.userId, { eventId, type, activationId: activation.id, body });
  }

  /** After a capture: balance.low when the partner set a threshold and the available balance is below it. */
  async balanceAfterCapture(input: { userId: string; activationId: string; availableMicros: bigint; heldMicros: bigint }): Promise<void> {
    const webhook = await this.endpointOf(input.userId);
    if (!webhook || webhook.format !== 'SIMGATE' || webhook.balanceLowThresholdMicros === null) return;
    if (input.availableMicros >= webhook.balanceLowThresholdMicros) return;
    const eventId = eventIdFor(webhook.id, `${input.activationId}:balance.low`);
    const body = JSON.stringify({
      id: eventId,
      type: 'balance.low',
      createdAt: new Date().toISOString(),
      data: {
        availableMicros: input.availableMicros.toString(),
        heldMicros: input.heldMicros.toString(),
        thresholdMicros: webhook.balanceLowThresholdMicros.toString(),
        activationId: input.activationId,
      },
    });
    await this.enqueue(webhook.id, input.userId, { eventId, type: 'balance.low', activationId: input.activationId, body });
  }

  /** The partner's delivery log, newest first; `before` is the createdAt/id cursor of the last row seen. */
  async listDeliveries(userId: string, filter: { limit: number; status?: WebhookDeliveryView['status']; before?: string }): Promise<{ deliveries: WebhookDeliveryView[]; nextCursor: string | null }> {
    const cursor = filter.before ? parseCursor(filter.before) : null;
    const rows = await this.deps.db.webhookDelivery.findMany({
      where: {
        userId,
        ...(filter.status ? { status: filter.status } : {}),
        ...(cursor ? { OR: [{ createdAt: { lt: cursor.createdAt } }, { createdAt: cursor.createdAt, id: { lt: cursor.id } }] } : {}),
      },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: filter.limit + 1,
    });
    const page = rows.slice(0, filter.limit);
    const last = page.at(-1);
    return {
      deliveries: page.map(toView),
      nextCursor: rows.length > filter.limit && last ? Buffer.from(`${last.createdAt.toISOString()}|${last.id}`).toString('base64url') : null,
    };
  }

  /**
   * Sends an event again, whatever became of it: a new generation, attempts from zero. The
   * endpoint must be enabled (a disabled one is saved enabled first).
   */
  async replay(userId: string, eventId: string): Promise<WebhookDeliveryView> {
    const delivery = await this.deps.db.webhookDelivery.findFirst({ where: { id: eventId, userId }, include: { webhook: { select: { enabled: true } } } });
    if (!delivery) throw new AppError('NOT_FOUND', 'No such webhook delivery.');
    if (!delivery.webhook.enabled) throw new AppError('WEBHOOK_DISABLED', 'The webhook endpoint is disabled: save it enabled before replaying.');
    const updated = await this.deps.db.webhookDelivery.update({
      where: { id: eventId },
      data: { generation: { increment: 1 }, status: 'PENDING', attempts: 0, lastError: null, deliveredAt: null },
    });
    await this.signal(delivery.webhookId, { eventId, generation: updated.generation, lane: delivery.activationId ?? `event:${eventId}` });
    return toView(updated);
  }

  private async endpointOf(userId: string) {
    const webhook = await this.deps.db.partnerWebhook.findUnique({ where: { userId }, select: { id: true, enabled: true, format: true, balanceLowThresholdMicros: true } });
    return webhook?.enabled ? webhook : null;
  }

  private async enqueue(webhookId: string, userId: string, event: { eventId: string; type: PartnerEventType; activationId: string; body: string }): Promise<void> {
    // The first write wins: a retried activity finds its event (and its body, as first signed) in place.
    await this.deps.db.webhookDelivery.createMany({
      data: [{ id: event.eventId, webhookId, userId, activationId: event.activationId, type: event.type, body: event.body }],
      skipDuplicates: true,
    });
    const row = await this.deps.db.webhookDelivery.findUniqueOrThrow({ where: { id: event.eventId }, select: { generation: true, status: true } });
    // Already delivered (or replayed meanwhile, which signalled itself): nothing to send again.
    if (row.status !== 'PENDING') return;
    await this.signal(webhookId, { eventId: event.eventId, generation: row.generation, lane: event.activationId });
  }

  private async signal(webhookId: string, ref: WebhookEventRef): Promise<void> {
    const input: WebhookDeliveryInput = { webhookId, retry: this.deps.retry };
    await this.deps.temporal.workflow.signalWithStart(WEBHOOK_DELIVERY_WORKFLOW_TYPE, {
      workflowId: webhookDeliveryWorkflowId(webhookId),
      taskQueue: this.deps.taskQueue,
      args: [input],
      signal: webhookEventSignal,
      signalArgs: [ref],
    });
  }
}

/** Stable and opaque: the same happening always has the same id; one partner's ids say nothing of another's. */
export function eventIdFor(webhookId: string, key: string): string {
  return `evt_${createHash('sha256').update(`${webhookId}\n${key}`).digest('base64url').slice(0, 32)}`;
}

/** SMS-Activate's receivedAt: `YYYY-MM-DD HH:MM:SS` (UTC). */
function smsActivateTime(iso: string): string {
  return new Date(iso).toISOString().slice(0, 19).replace('T', ' ');
}

function parseCursor(raw: string): { createdAt: Date; id: string } {
  const [at, id] = Buffer.from(raw, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(at ?? '');
  if (!id || Number.isNaN(createdAt.getTime())) throw new AppError('VALIDATION_ERROR', 'Invalid cursor.');
  return { createdAt, id };
}

function toView(row: {
  id: string;
  type: string;
  activationId: string | null;
  status: WebhookDeliveryView['status'];
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  lastResponseMs: number | null;
  lastAttemptAt: Date | null;
  deliveredAt: Date | null;
  createdAt: Date;
  body: string;
}): WebhookDeliveryView {
  return {
    eventId: row.id,
    type: row.type,
    activationId: row.activationId,
    status: row.status,
    attempts: row.attempts,
    lastStatusCode: row.lastStatusCode,
    lastError: row.lastError,
    lastResponseMs: row.lastResponseMs,
    lastAttemptAt: row.lastAttemptAt?.toISOString() ?? null,
    deliveredAt: row.deliveredAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
    body: row.body,
  };
}
