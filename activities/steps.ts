import { log } from '@temporalio/activity';
import { sqlDataException } from '../src/db/errors';
import { ProviderError } from '../src/providers/types';
import type { PurchaseCandidate } from '../src/catalog/catalog.service';
import type { ActivationStatus, ActivationView, FailureCode, IncomingSms } from '../workflows/contracts';
import { providerRefusal } from './failures';
import type { createFundsActivities, Reservation, ReserveInput } from './funds';
import type { createRecordActivities } from './records';
import type { createUpstreamActivities, UpstreamPurchase, UpstreamRef } from './upstream';

export interface BoughtAndRecorded {
  purchase: UpstreamPurchase;
  /** The database refused a value of the purchase (DATA_INVALID): the number is ours, the row is not written. */
  dataInvalid: { sqlState: string } | null;
}

/** The hold, and what the first (cheapest) provider did: sold, or said a final no. */
export interface HeldAndBought {
  reservation: Reservation;
  bought: BoughtAndRecorded | null;
  /** The first provider's refusal (no numbers, rejected), when it refused; null when it sold or there was none. */
  refusal: FailureCode | null;
}

/**
 * Steps of the activation workflow that are two writes run back to back (workflows/activation.ts
 * runs them as local activities): each was an activity of its own, so each pair cost a workflow
 * task and a history event more. Both halves are idempotent on their own (keyed by the
 * activation), so a retry of the pair repeats nothing: a buy finds its claim, a capture or a
 * release its settled hold, a record its guarded row.
 */
export function createStepActivities(parts: {
  funds: ReturnType<typeof createFundsActivities>;
  upstream: ReturnType<typeof createUpstreamActivities>;
  records: ReturnType<typeof createRecordActivities>;
  now?: () => number;
}) {
  const now = parts.now ?? Date.now;
  const steps = {
    /**
     * reserveFunds, then buyAndRecord from the first candidate: the two steps every purchase
     * starts with, in one local activity (one marker event, one round of the workflow's thread).
     * A retry repeats neither: the hold is keyed, the buy finds its claim or the sale a lost
     * attempt made. A provider's final no is an answer, not a failure — the hold stands, and the
     * workflow goes on to the next provider; anything retryable fails the step, which is retried
     * whole.
     */
    async holdAndBuy(input: ReserveInput & { view: ActivationView }): Promise<HeldAndBought> {
      const { view, ...reserve } = input;
      const reservation = await parts.funds.reserveFunds(reserve);
      const [first] = reservation.candidates;
      if (!first) return { reservation, bought: null, refusal: null };
      try {
        const held = { ...view, heldMicros: reservation.heldMicros, createdAt: reservation.createdAt };
        return { reservation, bought: await steps.buyAndRecord({ activationId: input.activationId, candidate: first, view: held }), refusal: null };
      } catch (error) {
        const refusal = providerRefusal(error);
        if (refusal === null) throw error;
        return { reservation, bought: null, refusal };
      }
    },

    /** buyNumber, then recordPurchase with the view it makes ACTIVE (what the user's open pages are pushed). */
    async buyAndRecord(input: { activationId: string; candidate: PurchaseCandidate; view: ActivationView }): Promise<BoughtAndRecorded> {
      const purchase = await parts.upstream.buyNumber({ activationId: input.activationId, candidate: input.candidate });
      const view: ActivationView = {
        ...input.view,
        status: 'ACTIVE',
        providerId: purchase.providerId,
        phone: purchase.phone,
        priceMicros: input.candidate.sellMicros,
        expiresAt: purchase.expiresAt,
        cancelAllowedAt: purchase.cancelAllowedAt,
        actions: { cancel: Date.parse(purchase.cancelAllowedAt) <= now(), retry: false, finish: false },
      };
      try {
        await parts.records.recordPurchase({ activationId: input.activationId, purchase, priceMicros: input.candidate.sellMicros, costMicros: input.candidate.costMicros, view });
      } catch (error) {
        // The number is bought and claimed: the workflow must learn of it to give it back.
        const sqlState = sqlDataException(error);
        if (!sqlState) throw error;
        return { purchase, dataInvalid: { sqlState } };
      }
      return { purchase, dataInvalid: null };
    },

    /**
     * recordSms and (for the first SMS) the capture of the price, side by side: the two are
     * independent writes, each keyed by the activation, and a retry of the pair repeats neither.
     * The step runs inside the workflow task, which holds back the queries that show the SMS.
     */
    async recordSmsAndCapture(input: { activationId: string; seq: number; sms: IncomingSms; view: ActivationView; captureMicros: string | null }): Promise<void> {
      const capture = input.captureMicros;
      // Both settle before the step ends (so no write outlives a failed attempt); the first failure is the step's.
      const outcomes = await Promise.allSettled([
        parts.records.recordSms({ activationId: input.activationId, seq: input.seq, sms: input.sms, view: input.view }),
        capture === null ? null : parts.funds.captureFunds({ activationId: input.activationId, priceMicros: capture }),
      ]);
      for (const outcome of outcomes) if (outcome.status === 'rejected') throw outcome.reason;
    },

    /** Finishes the number at the provider (a refusal is no reason to keep the customer's code open), then records COMPLETED. */
    async finishAndClose(input: { activationId: string; ref: UpstreamRef; view: ActivationView }): Promise<void> {
      try {
        await parts.upstream.finishUpstream(input.ref);
      } catch (error) {
        // Closed already (auto-finish at expiry, an earlier attempt of this step): the customer has the code either way.
        if (!(error instanceof ProviderError) || error.kind === 'TRANSIENT') throw error;
        log.info('finish at provider refused', { activationId: input.activationId, kind: error.kind, token: error.token });
      }
      await parts.records.recordOutcome({ activationId: input.activationId, status: 'COMPLETED', reason: null, view: input.view });
    },

    /** The end of an activation without a capture: releases the hold (if one was taken), then records the outcome. */
    async releaseAndClose(input: { activationId: string; release: boolean; status: ActivationStatus; reason: string | null; view: ActivationView }): Promise<void> {
      if (input.release) await parts.funds.releaseFunds({ activationId: input.activationId });
      await parts.records.recordOutcome({ activationId: input.activationId, status: input.status, reason: input.reason, view: input.view });
    },
  };
  return steps;
}
