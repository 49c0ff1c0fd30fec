/**
 * One purchase of one number, from the hold to the refund or the capture (DESIGN.md "The
 * activation workflow"). Deterministic by construction: only @temporalio/workflow, the contract
 * and activity *types* are imported; time is the SDK's; everything else is an activity.
 *
 * All world-touching steps run in the main loop, one at a time. Signals and updates only record
 * what happened or what was asked; so a cancel, an SMS and the expiry can never race each other
 * into two refunds: there is exactly one place that releases funds (close()).
 *
 * Lean by design (issue 11): every step is a local activity — it runs inside the workflow task
 * that asks for it, costing one marker event instead of three activity events and a second
 * workflow task — and steps that are two writes in a row are one activity (activities/steps.ts),
 * the hold and the first buy included. They run inside the purchase's first workflow task; the
 * buy step publishes the number, which is what the API answers with (the awaitNumber update is
 * its fallback, and answers in that task too). One timer is armed at a time (the next fallback
 * poll while an SMS is awaited, else the expiry), never cancelled and re-armed. Search
 * attributes change in one upsert per state change: the status, the phase and its start time
 * together — and only where ops act on the change (an SMS changes no phase).
 *
 * Each shape of the command sequence is a workflow type of its own, with no version marker in
 * its history (a `patched()` call costs two events per purchase: the marker and the SDK's
 * TemporalChangeVersion upsert). `purchase` is what the API starts. Purchases started before it
 * finish on their own type: `activation` (hold and buy as two steps, a CODE_RECEIVED phase), and
 * the older `activationWorkflow` — the `activation` shape when its history has the
 * `lean-activation` marker, workflows/activation-v1.ts when not.
 */
import {
  ApplicationFailure,
  CancellationScope,
  condition,
  allHandlersFinished,
  isCancellation,
  log,
  patched,
  proxyLocalActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Duration, SearchAttributeUpdatePair } from '@temporalio/common';
import type { Activities, BoughtAndRecorded, Reservation, UpstreamPurchase } from '../activities';
import { activationWorkflowV1, failedActivityType, failureType, sqlStateOf } from './activation-v1';
import {
  type ActivationInput,
  type ActivationPhase,
  type ActivationStatus,
  type ActivationView,
  type IncomingSms,
  type FailureCode,
  type SmsView,
  FailureType,
  NON_RETRYABLE_FAILURES,
  awaitNumberUpdate,
  cancelActivationUpdate,
  finishActivationUpdate,
  getActivationQuery,
  requestAnotherSmsUpdate,
  searchAttributes,
  retryStuckStepSignal,
  smsReceivedSignal,
} from './contracts';

/** Versioning marker of `activationWorkflow` histories: its absence means the history began on activation-v1.ts. */
export const PATCH_LEAN = 'lean-activation';

/** Where the command sequences of the lean workflow types differ. */
interface Shape {
  /** Hold and first buy as one step (holdAndBuy), or as two (reserveFunds, then buyAndRecord). */
  holdAndBuyInOneStep: boolean;
  /** An upsert of the phase CODE_RECEIVED when an SMS comes. */
  codeReceivedPhase: boolean;
}

const PURCHASE_SHAPE: Shape = { holdAndBuyInOneStep: true, codeReceivedPhase: false };
const ACTIVATION_SHAPE: Shape = { holdAndBuyInOneStep: false, codeReceivedPhase: true };

/** A purchase (ACTIVATION_WORKFLOW_TYPE): what the API starts. */
export async function purchase(input: ActivationInput): Promise<ActivationView> {
  return leanActivation(input, PURCHASE_SHAPE);
}

/**
 * Purchases started before `purchase` existed (PREVIOUS_ACTIVATION_WORKFLOW_TYPE), replayed as
 * they began. Nothing starts it any more: retire it, with its Shape, once none runs.
 */
export async function activation(input: ActivationInput): Promise<ActivationView> {
  return leanActivation(input, ACTIVATION_SHAPE);
}

/**
 * Purchases started before `activation` existed (LEGACY_ACTIVATION_WORKFLOW_TYPE), replayed as
 * they began. Nothing starts it any more: retire it, with activation-v1.ts, once none runs.
 */
export async function activationWorkflow(input: ActivationInput): Promise<ActivationView> {
  if (!patched(PATCH_LEAN)) return activationWorkflowV1(input);
  return leanActivation(input, ACTIVATION_SHAPE);
}

const nonRetryableErrorTypes = [...NON_RETRYABLE_FAILURES];

/** Database and wallet steps: retried until they succeed (money must not be left half-moved). */
const db = proxyLocalActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '200 ms', backoffCoefficient: 2, maximumInterval: '1 minute', nonRetryableErrorTypes },
});

/**
 * A purchase attempt: a few quick retries of transient faults, then the next provider. A retry
 * first looks for the number an earlier attempt may have bought (activities/upstream.ts), so a
 * retry never buys blindly.
 */
const buying = proxyLocalActivities<Activities>({
  startToCloseTimeout: '25 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumAttempts: 3, nonRetryableErrorTypes },
});

/** Status polls: bounded, because the next poll is the retry. */
const polling = proxyLocalActivities<Activities>({
  startToCloseTimeout: '20 seconds',
  retry: { initialInterval: '1 second', maximumAttempts: 2, nonRetryableErrorTypes },
});

/**
 * Cancel / another SMS at the provider: bounded here, so a provider that keeps failing shows in
 * the workflow (phase CANCELLING, a refused customer action) instead of inside an endless retry.
 */
const provider = proxyLocalActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumAttempts: 4, nonRetryableErrorTypes },
});

/** Finish at the provider + COMPLETED: the finish tolerates refusals, so only outages retry, until they pass. */
const closing = proxyLocalActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', nonRetryableErrorTypes },
});

/** Between two attempts to give a number back while the provider fails (not refuses). */
const CANCEL_RETRY_PAUSE = '15 seconds';

type Action = 'cancel' | 'retry' | 'finish';

interface PendingAction {
  kind: Action;
  done: boolean;
  failure?: ApplicationFailure;
}

type Ref = { providerId: string; upstreamId: string };

async function leanActivation(input: ActivationInput, shape: Shape): Promise<ActivationView> {
  let status: ActivationStatus = 'RESERVED';
  let phase: ActivationPhase = 'BUYING';
  let held = false;
  let captured = false;
  let heldMicros: string | null = null;
  let createdAt: string | undefined;
  let priceMicros: string | null = null;
  let purchase: UpstreamPurchase | null = null;
  /** The step that bought `purchase` (holdAndBuy or buyAndRecord), named in a data incident it leaves. */
  let boughtBy: 'holdAndBuy' | 'buyAndRecord' | null = null;
  let failureReason: string | null = null;
  /** True until the first SMS, and again after "another SMS" until it comes. */
  let awaitingSms = true;
  const messages: SmsView[] = [];
  const inbox: IncomingSms[] = [];
  let action: PendingAction | null = null;

  const isTerminal = () => status !== 'RESERVED' && status !== 'ACTIVE';
  const msUntilCancelAllowed = () => (purchase ? Date.parse(purchase.cancelAllowedAt) - Date.now() : 0);
  /** The workflow's view in a given status: the query's answer, and what record activities publish. */
  const viewAs = (status: ActivationStatus): ActivationView => ({
    id: input.activationId,
    status,
    serviceCode: input.serviceCode,
    countryIso: input.countryIso,
    providerId: purchase?.providerId ?? null,
    phone: purchase?.phone ?? null,
    heldMicros,
    priceMicros,
    expiresAt: purchase?.expiresAt ?? null,
    cancelAllowedAt: purchase?.cancelAllowedAt ?? null,
    failureReason,
    messages: [...messages],
    actions: {
      cancel: status === 'ACTIVE' && messages.length === 0 && msUntilCancelAllowed() <= 0 && action === null,
      retry: status === 'ACTIVE' && messages.length > 0 && !awaitingSms && action === null,
      finish: status === 'ACTIVE' && messages.length > 0 && action === null,
    },
    userId: input.userId,
    createdAt,
  });
  const view = () => viewAs(status);

  setHandler(getActivationQuery, view);
  // Set by an operator (retryStuckStepSignal): the current pause between two attempts ends now.
  let retryRequested = false;
  setHandler(retryStuckStepSignal, () => {
    retryRequested = true;
  });
  /** A pause an operator can cut short. Same timer command as sleep() while nobody does. */
  const pauseBeforeRetry = async (duration: Duration): Promise<void> => {
    await condition(() => retryRequested, duration);
    retryRequested = false;
  };
  setHandler(smsReceivedSignal, (sms) => {
    inbox.push(sms);
  });
  setHandler(awaitNumberUpdate, async () => {
    await condition(() => status !== 'RESERVED');
    return view();
  });

  /** Customer actions are validated against the current state, then carried out by the main loop. */
  const refuse = (type: FailureCode, message: string, details?: Record<string, unknown>) =>
    ApplicationFailure.create({ type, message, nonRetryable: true, details: details ? [details] : undefined });

  const requireActive = () => {
    if (status === 'RESERVED') throw refuse(FailureType.NotReady, 'The number is still being bought.');
    if (isTerminal()) throw refuse(FailureType.ActivationClosed, `The activation is already ${status.toLowerCase()}.`);
  };

  const perform = async (kind: Action): Promise<ActivationView> => {
    if (action?.kind === kind) {
      // The same request twice (a double click, a retried HTTP call) joins the one in flight.
      const joined = action;
      await condition(() => joined.done);
      if (joined.failure) throw joined.failure;
      return view();
    }
    const mine: PendingAction = { kind, done: false };
    action = mine;
    await condition(() => mine.done);
    if (mine.failure) throw mine.failure;
    return view();
  };
  const refuseBusy = (kind: Action) => {
    if (action && action.kind !== kind) throw refuse(FailureType.ActionInProgress, `Another action (${action.kind}) is in progress.`);
  };

  setHandler(cancelActivationUpdate, () => perform('cancel'), {
    validator: () => {
      requireActive();
      refuseBusy('cancel');
      if (messages.length > 0) throw refuse(FailureType.SmsAlreadyReceived, 'An SMS has already arrived; the number cannot be cancelled.');
      const waitMs = msUntilCancelAllowed();
      if (waitMs > 0) {
        throw refuse(FailureType.CancelTooEarly, 'The provider does not allow cancelling yet.', { retryAfterSeconds: Math.ceil(waitMs / 1000) });
      }
    },
  });
  setHandler(requestAnotherSmsUpdate, () => perform('retry'), {
    validator: () => {
      requireActive();
      refuseBusy('retry');
      if (messages.length === 0) throw refuse(FailureType.NoSmsYet, 'Another SMS can be requested only after the first one.');
      if (awaitingSms && action?.kind !== 'retry') throw refuse(FailureType.AlreadyAwaitingSms, 'Another SMS has already been requested.');
    },
  });
  setHandler(finishActivationUpdate, () => perform('finish'), {
    validator: () => {
      requireActive();
      refuseBusy('finish');
      if (messages.length === 0) throw refuse(FailureType.NoSmsYet, 'Nothing to finish: no SMS has arrived. Cancel instead.');
    },
  });

  // ─── Search attributes: one upsert per state change ──────────────────────────────────────────

  /** The start request's attributes (the API sets them); a starter that set none gets them with the first upsert. */
  const startAttributes = workflowInfo().typedSearchAttributes;
  let identityPending = startAttributes.get(searchAttributes.userId) === undefined;
  let providerPublished = false;

  /** Status and/or phase changes, with the phase's start time, the provider once known and (once) who and what. */
  const publish = (change: { status?: ActivationStatus; phase?: ActivationPhase }) => {
    const pairs: SearchAttributeUpdatePair[] = [];
    if (change.status && change.status !== status) {
      status = change.status;
      pairs.push({ key: searchAttributes.status, value: change.status });
    } else if (change.status) status = change.status;
    if (change.phase && change.phase !== phase) {
      phase = change.phase;
      pairs.push({ key: searchAttributes.phase, value: change.phase }, { key: searchAttributes.phaseSince, value: new Date(Date.now()) });
    }
    if (pairs.length === 0) return;
    if (purchase && !providerPublished) {
      providerPublished = true;
      pairs.push({ key: searchAttributes.providerId, value: purchase.providerId });
    }
    if (identityPending) {
      identityPending = false;
      pairs.push(
        { key: searchAttributes.userId, value: input.userId },
        { key: searchAttributes.serviceCode, value: input.serviceCode },
        { key: searchAttributes.countryIso, value: input.countryIso },
      );
    }
    upsertSearchAttributes(pairs);
  };

  // ─── Timers: one armed at a time ────────────────────────────────────────────────────────────

  /** Due times of timers already started; a wake-up at or after one of them needs no new timer. */
  const armed: number[] = [];
  let rang = false;
  const wakeAt = (at: number) => {
    if (armed.some((due) => due <= at)) return;
    armed.push(at);
    const forget = () => armed.splice(armed.indexOf(at), 1);
    // A timer is never cancelled to arm an earlier one (that would cost two events): a stale one
    // that fires later only makes the loop look around once.
    sleep(Math.max(1, at - Date.now())).then(
      () => {
        forget();
        rang = true;
      },
      forget, // the workflow was cancelled: the compensation takes over
    );
  };

  // ─── Ends: each is one local activity, then one upsert ──────────────────────────────────────

  /** The end without a capture: the hold (if any) released and the outcome recorded, in one step. */
  const close = async (next: ActivationStatus, reason: string | null = null): Promise<ActivationView> => {
    failureReason = reason;
    const release = held && !captured;
    await db.releaseAndClose({ activationId: input.activationId, release, status: next, reason, view: viewAs(next) });
    if (release) held = false;
    publish({ status: next, phase: 'ENDED' });
    return view();
  };

  const finishAfterSms = async (ref: Ref): Promise<ActivationView> => {
    failureReason = null;
    await closing.finishAndClose({ activationId: input.activationId, ref, view: viewAs('COMPLETED') });
    publish({ status: 'COMPLETED', phase: 'ENDED' });
    return view();
  };

  const acceptSms = async (sms: IncomingSms) => {
    const last = messages[messages.length - 1];
    // Webhooks, inbox pollers and our own poll may all report the same SMS: it is new only while
    // we wait for one, or when its code differs from the last one we have.
    if (!awaitingSms && last && last.code === sms.code && last.text === sms.text) return;
    if (!awaitingSms && last && sms.code !== null && messages.some((m) => m.code === sms.code)) return;
    const message: SmsView = { seq: messages.length + 1, code: sms.code, text: sms.text, receivedAt: sms.receivedAt };
    messages.push(message);
    awaitingSms = false;
    const capture = held && !captured;
    // Non-cancellable: once the SMS is in `messages` the customer has the code, so it must be
    // stored and paid for even if the workflow is cancelled meanwhile.
    await CancellationScope.nonCancellable(() =>
      db.recordSmsAndCapture({ activationId: input.activationId, seq: message.seq, sms, view: view(), captureMicros: capture ? priceMicros! : null }),
    );
    if (capture) captured = true;
    if (shape.codeReceivedPhase) publish({ phase: 'CODE_RECEIVED' });
  };

  const drainInbox = async () => {
    while (inbox.length > 0) await acceptSms(inbox.shift()!);
  };

  /** What the provider shows now, fed through the same path as a webhook. Returns false if it says cancelled. */
  const pollOnce = async (ref: Ref): Promise<boolean> => {
    let upstreamStatus;
    try {
      upstreamStatus = await polling.pollUpstream(ref);
    } catch (error) {
      if (isCancellation(error)) throw error;
      // A poll that failed its few attempts (429, 5xx, a timeout) tells us nothing: the number is
      // taken as still open, and the next poll (or the inbox, or a webhook) is the retry.
      log.warn('provider status poll failed', { activationId: input.activationId, type: failureType(error) });
      return true;
    }
    if (upstreamStatus.state === 'CODE') {
      await acceptSms({ code: upstreamStatus.code, text: upstreamStatus.text ?? upstreamStatus.code, receivedAt: new Date(Date.now()).toISOString(), source: 'poll' });
    } else if (upstreamStatus.state === 'FINISHED' && upstreamStatus.code) {
      await acceptSms({ code: upstreamStatus.code, text: upstreamStatus.code, receivedAt: new Date(Date.now()).toISOString(), source: 'poll' });
    }
    return upstreamStatus.state !== 'CANCELLED';
  };

  /**
   * Gives the number back and refunds — only once the provider confirms. If the provider refuses
   * because an SMS is there, the customer gets the SMS and pays instead. Returns the final view.
   * Once an attempt did not go through, the phase says CANCELLING — published before the pause,
   * so it reaches the server with the pause's timer rather than with the end — and a cancel that
   * keeps failing is one filter away in the Temporal UI.
   */
  const cancelAtProvider = async (ref: Ref, whenCancelled: ActivationStatus): Promise<ActivationView> => {
    for (;;) {
      try {
        await provider.cancelUpstream(ref);
        await drainInbox();
        if (messages.length > 0) return finishAfterSms(ref);
        return close(whenCancelled, whenCancelled === 'FAILED' ? failureReason : null);
      } catch (error) {
        if (isCancellation(error)) throw error;
        const type = failureType(error);
        publish({ phase: 'CANCELLING' });
        if (type === FailureType.ProviderHasSms) {
          await pollOnce(ref);
          await drainInbox();
          if (messages.length > 0) return finishAfterSms(ref);
          await pauseBeforeRetry('5 seconds');
        } else if (type === FailureType.ProviderEarlyCancel) {
          await sleep(Math.max(msUntilCancelAllowed(), 1000));
        } else if (type === FailureType.ProviderRejected) {
          // The provider refuses for a reason we cannot fix (unknown id, bad state): do not
          // refund on a guess. Surface it to ops and keep asking the provider for its view.
          log.warn('provider refused cancel', { activationId: input.activationId, type });
          if (!(await pollOnce(ref))) return close(whenCancelled, whenCancelled === 'FAILED' ? failureReason : null);
          await drainInbox();
          if (messages.length > 0) return finishAfterSms(ref);
          await pauseBeforeRetry('1 minute');
        } else {
          // The provider failed (outage, timeouts) through the activity's retries: ask again.
          log.warn('cancel at provider failed', { activationId: input.activationId, type });
          await pauseBeforeRetry(CANCEL_RETRY_PAUSE);
        }
      }
    }
  };

  /** Buys from each candidate in turn until one sells; `attempts` are the refusals so far. Null when none sold. */
  const buy = async (candidates: Reservation['candidates'], attempts: string[]): Promise<BoughtAndRecorded | null> => {
    for (const candidate of candidates) {
      try {
        // Non-cancellable: a number bought upstream must reach the history.
        const bought = await CancellationScope.nonCancellable(() => buying.buyAndRecord({ activationId: input.activationId, candidate, view: view() }));
        sold(bought, candidate, 'buyAndRecord');
        return bought;
      } catch (error) {
        if (isCancellation(error)) throw error;
        couldNotSell(attempts, candidate.providerId, failureType(error));
      }
    }
    failureReason = attempts.every((a) => a.endsWith(FailureType.ProviderNoNumbers)) ? 'NO_NUMBERS' : `NO_PROVIDER_COULD_SELL (${attempts.join('; ')})`;
    return null;
  };
  /** A provider that did not sell: named in the failure reason should nobody sell, and logged. */
  const couldNotSell = (attempts: string[], providerId: string, type: string | null) => {
    attempts.push(`${providerId}: ${type ?? 'error'}`);
    log.info('provider could not sell, trying the next one', { activationId: input.activationId, providerId, type });
  };
  const sold = (bought: BoughtAndRecorded, candidate: Reservation['candidates'][number], step: NonNullable<typeof boughtBy>) => {
    purchase = bought.purchase;
    boughtBy = step;
    priceMicros = candidate.sellMicros;
  };
  const holdFunds = (reservation: Reservation) => {
    held = true;
    heldMicros = reservation.heldMicros;
    createdAt = reservation.createdAt;
  };

  const outcome = await run();
  const result = outcome.view;
  // An action accepted while the activation was ending (expiry reached while a poll was in
  // flight, say) was never carried out by the main loop: answer it here, or its update — and
  // with it this workflow, below — would wait forever. A cancel that the ending fulfilled
  // (number returned, funds released) succeeds; anything else is told the activation is closed.
  const unanswered = action as PendingAction | null;
  if (unanswered && !unanswered.done) {
    const ended = result.status;
    const fulfilled = unanswered.kind === 'cancel' ? ended === 'CANCELLED' || ended === 'EXPIRED' : unanswered.kind === 'finish' && ended === 'COMPLETED';
    if (!fulfilled) unanswered.failure = refuse(FailureType.ActivationClosed, `The activation is already ${ended.toLowerCase()}.`);
    unanswered.done = true;
    action = null;
  }
  // Let update callers (a cancel that ended the activation, say) receive their answer first.
  await CancellationScope.nonCancellable(() => condition(allHandlersFinished));
  // Cancelled by an operator and refunded: the execution ends Canceled, as the Temporal UI asked.
  // (One that found an SMS completed the sale instead and ends Completed, with the code paid for.)
  if (outcome.cancellation && result.status === 'CANCELLED') throw outcome.cancellation;
  return result;

  async function run(): Promise<{ view: ActivationView; cancellation: unknown }> {
    try {
      return { view: await purchaseAndWait(), cancellation: null };
    } catch (error) {
      if (failureType(error) === FailureType.DataInvalid) {
        const ended = await CancellationScope.nonCancellable(() => endAfterDataError(failedActivityType(error), sqlStateOf(error)));
        return { view: ended, cancellation: null };
      }
      if (!isCancellation(error)) throw error;
      // Cancelled from the Temporal Web UI or by an admin: give the number back and refund, even
      // though this scope is being cancelled.
      const ended = await CancellationScope.nonCancellable(async () => {
        const current = purchase as UpstreamPurchase | null;
        if (!current) return close('CANCELLED', 'CANCELLED_BY_OPERATOR');
        await drainInbox();
        const ref = { providerId: current.providerId, upstreamId: current.upstreamId };
        if (messages.length > 0) return finishAfterSms(ref);
        publish({ phase: 'CANCELLING' });
        const wait = msUntilCancelAllowed();
        if (wait > 0) await sleep(wait);
        return cancelAtProvider(ref, 'CANCELLED');
      });
      return { view: ended, cancellation: error };
    }
  }

  async function purchaseAndWait(): Promise<ActivationView> {
    const bought = await acquireNumber();
    if (!bought) return await close('FAILED', failureReason);
    if (bought.dataInvalid) return await CancellationScope.nonCancellable(() => endAfterDataError(boughtBy, bought.dataInvalid!.sqlState));
    return await waitForSms(bought.purchase);
  }

  /** The hold, then a number from the first provider that sells; null (failureReason set) when the hold was refused or none sold. */
  async function acquireNumber(): Promise<BoughtAndRecorded | null> {
    const reserveInput = {
      activationId: input.activationId,
      userId: input.userId,
      serviceCode: input.serviceCode,
      countryIso: input.countryIso,
      maxPriceMicros: input.maxPriceMicros,
      quote: input.quote,
    };
    const attempts: string[] = [];
    if (shape.holdAndBuyInOneStep) {
      try {
        // Non-cancellable: once asked, the hold (and a number bought upstream) must reach the history.
        const first = await CancellationScope.nonCancellable(() => buying.holdAndBuy({ ...reserveInput, view: view() }));
        holdFunds(first.reservation);
        const [cheapest, ...others] = first.reservation.candidates;
        if (first.bought) {
          sold(first.bought, cheapest, 'holdAndBuy');
          return first.bought;
        }
        if (first.refusal) couldNotSell(attempts, cheapest.providerId, first.refusal);
        return await buy(others, attempts);
      } catch (error) {
        if (isCancellation(error)) throw error;
        // The hold was refused, or the first buy failed all its attempts: the hold on its own
        // tells which (it answers the hold already made, or the refusal again), and the first
        // provider, if it was reached, is not asked again.
        const reservation = await reserve(reserveInput);
        if (!reservation) return null;
        const [cheapest, ...others] = reservation.candidates;
        if (cheapest) couldNotSell(attempts, cheapest.providerId, failureType(error));
        return await buy(others, attempts);
      }
    }
    const reservation = await reserve(reserveInput);
    if (!reservation) return null;
    return await buy(reservation.candidates, attempts);
  }

  /** The hold alone; null (failureReason set) when it was refused. */
  async function reserve(reserveInput: Parameters<Activities['reserveFunds']>[0]): Promise<Reservation | null> {
    try {
      // Non-cancellable: once asked, the hold must be known to this workflow, or a cancel
      // arriving meanwhile could leave it behind.
      const reservation = await CancellationScope.nonCancellable(() => db.reserveFunds(reserveInput));
      holdFunds(reservation);
      return reservation;
    } catch (error) {
      const type = failureType(error);
      if (type === null || isCancellation(error)) throw error;
      failureReason = type;
      return null;
    }
  }

  async function waitForSms(bought: UpstreamPurchase): Promise<ActivationView> {
    const ref = { providerId: bought.providerId, upstreamId: bought.upstreamId };
    publish({ status: 'ACTIVE', phase: 'WAITING_SMS' });

    const expiresAt = Date.parse(bought.expiresAt);
    let pollDelayMs = input.polling.initialMs;
    let nextPollAt = Date.now() + pollDelayMs;
    for (;;) {
      if (Date.now() >= expiresAt) {
        await drainInbox();
        return messages.length > 0 ? await finishAfterSms(ref) : await cancelAtProvider(ref, 'EXPIRED');
      }
      if (inbox.length > 0) {
        await drainInbox();
        continue;
      }
      if (action && !action.done) {
        const wasAwaiting = awaitingSms;
        const done = await carryOut(action, ref);
        if (done) return done;
        if (awaitingSms && !wasAwaiting) {
          // Another SMS was asked for: the fallback poll starts over.
          pollDelayMs = input.polling.initialMs;
          nextPollAt = Date.now() + pollDelayMs;
        }
        continue;
      }
      // The fallback poll, only while an SMS is awaited: the inbox poller and webhooks are the
      // usual way an SMS arrives; this catches the numbers they cannot see.
      if (awaitingSms && Date.now() >= nextPollAt) {
        const alive = await pollOnce(ref);
        await drainInbox();
        if (!alive) {
          // The provider closed the number on its own (its lifetime ran out first).
          return messages.length > 0 ? await close('COMPLETED') : await cancelAtProvider(ref, 'EXPIRED');
        }
        pollDelayMs = Math.min(pollDelayMs * 2, input.polling.maxMs);
        nextPollAt = Date.now() + pollDelayMs;
        continue;
      }
      wakeAt(awaitingSms ? Math.min(nextPollAt, expiresAt) : expiresAt);
      rang = false;
      await condition(() => rang || inbox.length > 0 || (action !== null && !action.done));
    }
  }

  /**
   * The database refused data this activation carried (a step failed with DATA_INVALID, which no
   * retry can fix): kept as an incident, and the activation ended with its money settled — the
   * customer pays for a code they were shown, and gets the hold back otherwise.
   */
  async function endAfterDataError(activity: string | null, sqlState: string | null): Promise<ActivationView> {
    const current = purchase as UpstreamPurchase | null;
    await db.recordDataIncident({
      activationId: input.activationId,
      providerId: current?.providerId ?? null,
      upstreamId: current?.upstreamId ?? null,
      activity,
      sqlState,
    });
    failureReason = FailureType.DataInvalid;
    if (!current) return close('FAILED', failureReason);
    const ref = { providerId: current.providerId, upstreamId: current.upstreamId };
    if (messages.length > 0) {
      if (held && !captured) {
        // The customer was shown the code, stored or not.
        await db.captureFunds({ activationId: input.activationId, priceMicros: priceMicros! });
        captured = true;
      }
      return finishAfterSms(ref);
    }
    return cancelAtProvider(ref, 'FAILED');
  }

  /** Runs one customer action at the provider; returns the final view when it ended the activation. */
  async function carryOut(pending: PendingAction, ref: Ref): Promise<ActivationView | null> {
    try {
      if (pending.kind === 'cancel') {
        await drainInbox();
        if (messages.length > 0) {
          pending.failure = refuse(FailureType.SmsAlreadyReceived, 'An SMS has already arrived; the number cannot be cancelled.');
          return null;
        }
        try {
          await provider.cancelUpstream(ref);
        } catch (error) {
          const type = failureType(error);
          if (type === FailureType.ProviderHasSms) {
            await pollOnce(ref);
            await drainInbox();
            pending.failure = refuse(FailureType.SmsAlreadyReceived, 'An SMS arrived just before the cancel; it is in your inbox.');
            return null;
          }
          if (type === FailureType.ProviderEarlyCancel) {
            pending.failure = refuse(FailureType.CancelTooEarly, 'The provider does not allow cancelling yet.', {
              retryAfterSeconds: Math.max(1, Math.ceil(msUntilCancelAllowed() / 1000)),
            });
            return null;
          }
          throw error;
        }
        return await close('CANCELLED');
      }
      if (pending.kind === 'retry') {
        await provider.requestAnotherSmsUpstream(ref);
        awaitingSms = true;
        publish({ phase: 'WAITING_SMS' });
        return null;
      }
      return await finishAfterSms(ref);
    } catch (error) {
      // A cancellation, and a value the database refused, end the activation (run()), not just this action.
      if (isCancellation(error) || failureType(error) === FailureType.DataInvalid) throw error;
      pending.failure = refuse(FailureType.ProviderError, 'The provider refused the request; please try again.', { type: failureType(error) });
      return null;
    } finally {
      pending.done = true;
      action = null;
    }
  }
}
