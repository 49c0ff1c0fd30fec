import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Db } from '../db/client';
import type { Logger } from '../lib/logger';
import type { IncidentService } from '../providers/incidents.service';
import { smsReceivedSignal, type ActivationStatus, type IncomingSms } from '../../workflows/contracts';

/** An activation as the intake needs it: where to signal, and what it already has. */
export interface MatchedActivation {
  id: string;
  upstreamId: string;
  status: ActivationStatus;
  messages: { code: string | null; text: string }[];
}

/**
 * What became of one SMS: `signalled` to its waiting workflow; `late` (the activation had ended:
 * recorded as an incident); `duplicate` (the ended activation already has it); `unknown` (no
 * activation of ours has this upstream id); `failed` (Temporal did not take the signal: the
 * caller tries again later).
 */
export type IntakeOutcome =
  | { kind: 'signalled' | 'late' | 'duplicate'; activationId: string }
  | { kind: 'unknown' }
  | { kind: 'failed'; activationId: string; error: unknown };

/**
 * The one path an SMS from a provider takes into SimGate, whether a webhook brought it or the
 * provider's inbox poller found it: match it to our activation, signal the workflow while it
 * waits, or keep it as a late-SMS incident once it has ended — never dropped silently (the
 * customer of an ended activation was not charged for it; an admin decides).
 */
export class SmsIntake {
  constructor(private readonly deps: { db: Db; temporal: Client; incidents: IncidentService; logger: Logger }) {}

  /** Our activations for these upstream ids at one provider, in one query. */
  async match(providerId: string, upstreamIds: string[]): Promise<Map<string, MatchedActivation>> {
    if (upstreamIds.length === 0) return new Map();
    const rows = await this.deps.db.activation.findMany({
      where: { providerId, upstreamId: { in: upstreamIds } },
      select: { id: true, upstreamId: true, status: true, messages: { select: { code: true, text: true } } },
    });
    return new Map(rows.map((row) => [row.upstreamId!, { ...row, upstreamId: row.upstreamId! }]));
  }

  /** Delivers one SMS; `matched` is what match() found for it, when the caller already asked. */
  async deliver(providerId: string, upstreamId: string, sms: IncomingSms, matched?: MatchedActivation | null): Promise<IntakeOutcome> {
    const activation = matched === undefined ? (await this.match(providerId, [upstreamId])).get(upstreamId) : matched;
    if (!activation) return { kind: 'unknown' };
    if (activation.status === 'ACTIVE' || activation.status === 'RESERVED') {
      try {
        await this.deps.temporal.workflow.getHandle(activation.id).signal(smsReceivedSignal, sms);
        return { kind: 'signalled', activationId: activation.id };
      } catch (error) {
        if (!(error instanceof WorkflowNotFoundError)) return { kind: 'failed', activationId: activation.id, error };
        // The workflow closed between our read and the signal: a late SMS, below.
      }
    }
    if (activation.messages.some((m) => m.code === sms.code && m.text === sms.text)) return { kind: 'duplicate', activationId: activation.id };
    await this.deps.incidents.recordLateSms({ providerId, upstreamId, activationId: activation.id, sms: { code: sms.code, text: sms.text, receivedAt: sms.receivedAt } });
    this.deps.logger.warn({ activationId: activation.id, providerId, source: sms.source }, 'SMS after the activation ended: recorded as an incident');
    return { kind: 'late', activationId: activation.id };
  }
}
