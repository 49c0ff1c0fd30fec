/**
 * One customer top-up: created → awaiting payment → confirmed → credited, or expired / failed.
 *
 * The processor is the truth. Callbacks (webhooks, IPNs, the sandbox's button) only wake the
 * workflow; every decision follows a status read from the processor, so a duplicate, late or
 * reordered callback changes nothing, and a callback that never comes only delays the credit
 * until the next poll (initialMs doubling to maxMs). The credit is two keyed wallet credits
 * (`<id>:credit`, `:bonus`): however often a step is retried, money moves once.
 */
import { ApplicationFailure, condition, proxyActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { getTopupQuery, NON_RETRYABLE_FAILURES, paymentNoticeSignal, type PaymentState, type TopupInput, type TopupResult, type TopupStatus } from './contracts';

/** Creating the payment: a processor down for minutes fails the top-up (nothing can have been paid: nobody has the payment page yet). */
const opening = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '2 minutes', maximumAttempts: 8, nonRetryableErrorTypes: [...NON_RETRYABLE_FAILURES] },
});

const acts = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  // Processor outages are waited out: the money may already be on its way.
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes', nonRetryableErrorTypes: [...NON_RETRYABLE_FAILURES] },
});


export async function topupWorkflow(input: TopupInput): Promise<TopupResult> {
  let status: TopupStatus = 'CREATED';
  let woken = false;
  let checks = 0;
  let lastState: PaymentState | null = null;
  setHandler(paymentNoticeSignal, () => {
    woken = true;
  });
  setHandler(getTopupQuery, () => ({ status, checks, lastState }));

  const end = async (final: 'EXPIRED' | 'FAILED', reason: string): Promise<TopupResult> => {
    await acts.endTopup({ topupId: input.topupId, status: final, reason });
    status = final;
    return { status, creditedMicros: null };
  };

  let opened;
  try {
    opened = await opening.openPayment({ topupId: input.topupId });
  } catch (error) {
    return end('FAILED', `the processor did not create the payment: ${failureMessage(error)}`);
  }
  status = 'AWAITING_PAYMENT';
  const expiresAt = Date.parse(opened.expiresAt);
  const settleBy = expiresAt + input.settleGraceMs;
  let delay = input.polling.initialMs;
  let expireAsked = false;

  for (;;) {
    const now = Date.now();
    const until = lastState === 'pending' && !expireAsked ? expiresAt : settleBy;
    await condition(() => woken, Math.max(1, Math.min(delay, until - now)));
    woken = false;
    delay = Math.min(delay * 2, input.polling.maxMs);
    const past = Date.now() >= expiresAt;
    const pastGrace = Date.now() >= settleBy;
    // A partial payment can still grow until the payment expires; after that what came is what is credited.
    const check = await acts.checkPayment({ topupId: input.topupId, acceptPartial: past });
    checks++;
    lastState = check.state;
    if (check.state === 'paid') break;
    if (check.state === 'expired') return end('EXPIRED', 'the payment expired unpaid');
    if (check.state === 'failed') return end('FAILED', 'the processor reports the payment failed');
    if (check.state === 'pending' && past) {
      if (!expireAsked) {
        // Closed at the processor first, then asked once more: a payment made at the last second is credited, never lost.
        await acts.expirePayment({ topupId: input.topupId });
        expireAsked = true;
        woken = true;
        continue;
      }
      return end('EXPIRED', 'the payment expired unpaid');
    }
    if (pastGrace) return end('FAILED', `still ${check.state} at the processor long after the payment expired; see the processor's dashboard`);
  }

  status = 'CONFIRMED';
  const credited = await acts.creditTopup({ topupId: input.topupId });
  status = 'CREDITED';
  return { status, creditedMicros: credited.creditedMicros };
}

function failureMessage(error: unknown): string {
  const cause = (error as { cause?: unknown }).cause;
  if (cause instanceof ApplicationFailure) return cause.message;
  return error instanceof Error ? error.message : String(error);
}
