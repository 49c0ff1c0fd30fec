/**
 * The activation workflow as it ran before the lean rewrite (workflows/activation.ts): remote
 * activities for every step, a timer per poll. Kept, unchanged in its commands, for the
 * histories that started on it — activationWorkflow runs it when its `patched()` marker is absent
 * (test/fixtures/histories replay through here). New activations never come here.
 *
 * One purchase of one number, from the hold to the refund or the capture (DESIGN.md "The
 * activation workflow"). Deterministic by construction: only @temporalio/workflow, the contract
 * and activity *types* are imported; time is the SDK's; everything else is an activity.
 *
 * All world-touching steps run in the main loop, one at a time. Signals and updates only record
 * what happened or what was asked; so a cancel, an SMS and the expiry can never race each other
 * into two refunds: there is exactly one place that releases funds (settle()).
 */
import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  log,
  patched,
  proxyActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { Activities, UpstreamPurchase } from '../activities';
import {
  type ActivationInput,
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
  smsReceivedSignal,
} from './contracts';

/** Database and wallet steps: retried until they succeed (money must not be left half-moved). */
const local = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '500 ms', backoffCoefficient: 2, maximumInterval: '1 minute', nonRetryableErrorTypes: [...NON_RETRYABLE_FAILURES] },
});

/**
 * A purchase attempt: a few quick retries of transient faults, then the next provider. The
 * heartbeat notices a dead worker within seconds; the next attempt then first looks for the number
 * the dead one may have bought (activities/upstream.ts), so a retry never buys blindly.
 */
const buying = proxyActivities<Activities>({
  startToCloseTimeout: '25 seconds',
  heartbeatTimeout: '5 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumAttempts: 3, nonRetryableErrorTypes: [...NON_RETRYABLE_FAILURES] },
});

/** Status polls: bounded, because the next poll is the retry. */
const polling = proxyActivities<Activities>({
  startToCloseTimeout: '20 seconds',
  retry: { initialInterval: '1 second', maximumAttempts: 2, nonRetryableErrorTypes: [...NON_RETRYABLE_FAILURES] },
});

/** Cancel / finish / another SMS at the provider: retried until the provider answers. */
const upstream = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', nonRetryableErrorTypes: [...NON_RETRYABLE_FAILURES] },
});

/** Workflow versioning markers (patched()): each names a behaviour change that running histories predate. */
const PATCH_POLL_ONLY_WHILE_AWAITING = 'poll-only-while-awaiting-sms';

type Action = 'cancel' | 'retry' | 'finish';

interface PendingAction {
  kind: Action;
  done: boolean;
  failure?: ApplicationFailure;
}

export async function activationWorkflowV1(input: ActivationInput): Promise<ActivationView> {
  let status: ActivationStatus = 'RESERVED';
  let held = false;
  let captured = false;
  let heldMicros: string | null = null;
  let priceMicros: string | null = null;
  let purchase: UpstreamPurchase | null = null;
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
  });
  const view = () => viewAs(status);

  setHandler(getActivationQuery, view);
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

  const setStatus = (next: ActivationStatus) => {
    status = next;
    upsertSearchAttributes([
      { key: searchAttributes.status, value: next },
      ...(purchase ? [{ key: searchAttributes.providerId, value: purchase.providerId }] : []),
    ]);
  };

  const end = async (next: ActivationStatus, reason: string | null = null): Promise<ActivationView> => {
    failureReason = reason;
    await local.recordOutcome({ activationId: input.activationId, status: next, reason, view: viewAs(next) });
    setStatus(next);
    return view();
  };

  /** The only place funds leave the hold: captured on the first SMS, or released once, at the end. */
  const settle = async (outcome: 'capture' | 'release') => {
    if (!held || captured) return;
    if (outcome === 'capture') {
      await local.captureFunds({ activationId: input.activationId, priceMicros: priceMicros! });
      captured = true;
    } else {
      await local.releaseFunds({ activationId: input.activationId });
      held = false;
    }
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
    // Non-cancellable: once the SMS is in `messages` the customer has the code, so it must be
    // stored and paid for even if the workflow is cancelled meanwhile (the cancellation path
    // only finishes the number; it would leave the hold open and the code unpaid).
    await CancellationScope.nonCancellable(async () => {
      await local.recordSms({ activationId: input.activationId, seq: message.seq, sms, view: view() });
      await settle('capture');
    });
  };

  const drainInbox = async () => {
    while (inbox.length > 0) await acceptSms(inbox.shift()!);
  };

  /** What the provider shows now, fed through the same path as a webhook. Returns false if it says cancelled. */
  const pollOnce = async (ref: { providerId: string; upstreamId: string }): Promise<boolean> => {
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
   * because an SMS is there, the customer gets the SMS and pays instead. Returns the final status.
   */
  const cancelAtProvider = async (ref: { providerId: string; upstreamId: string }, whenCancelled: ActivationStatus): Promise<ActivationView> => {
    for (;;) {
      try {
        await upstream.cancelUpstream(ref);
        await drainInbox();
        if (messages.length > 0) return finishAfterSms(ref);
        await settle('release');
        return end(whenCancelled, whenCancelled === 'FAILED' ? failureReason : null);
      } catch (error) {
        const type = failureType(error);
        if (type === FailureType.ProviderHasSms) {
          await pollOnce(ref);
          await drainInbox();
          if (messages.length > 0) return finishAfterSms(ref);
          await sleep('5 seconds');
        } else if (type === FailureType.ProviderEarlyCancel) {
          await sleep(Math.max(msUntilCancelAllowed(), 1000));
        } else {
          // The provider refuses for a reason we cannot fix (unknown id, bad state): do not
          // refund on a guess. Surface it to ops and keep asking the provider for its view.
          log.warn('provider refused cancel', { activationId: input.activationId, type });
          if (!(await pollOnce(ref))) {
            await settle('release');
            return end(whenCancelled);
          }
          await drainInbox();
          if (messages.length > 0) return finishAfterSms(ref);
          await sleep('1 minute');
        }
      }
    }
  };

  const finishAfterSms = async (ref: { providerId: string; upstreamId: string }): Promise<ActivationView> => {
    try {
      await upstream.finishUpstream(ref);
    } catch (error) {
      // The provider may have closed it already (auto-finish at expiry): the customer has the code either way.
      log.info('finish at provider refused', { activationId: input.activationId, type: failureType(error) });
    }
    return end('COMPLETED');
  };

  const buy = async (candidates: Awaited<ReturnType<Activities['reserveFunds']>>['candidates']) => {
    const attempts: string[] = [];
    for (const candidate of candidates) {
      try {
        // Non-cancellable for the same reason: a number bought upstream must reach the history.
        const bought = await CancellationScope.nonCancellable(() => buying.buyNumber({ activationId: input.activationId, candidate }));
        purchase = bought;
        priceMicros = candidate.sellMicros;
        return { bought, candidate };
      } catch (error) {
        if (isCancellation(error)) throw error;
        attempts.push(`${candidate.providerId}: ${failureType(error) ?? 'error'}`);
        log.info('provider could not sell, trying the next one', { activationId: input.activationId, providerId: candidate.providerId, type: failureType(error) });
      }
    }
    failureReason = attempts.every((a) => a.endsWith(FailureType.ProviderNoNumbers)) ? 'NO_NUMBERS' : `NO_PROVIDER_COULD_SELL (${attempts.join('; ')})`;
    return null;
  };

  upsertSearchAttributes([
    { key: searchAttributes.status, value: status },
    { key: searchAttributes.userId, value: input.userId },
    { key: searchAttributes.serviceCode, value: input.serviceCode },
    { key: searchAttributes.countryIso, value: input.countryIso },
  ]);

  const result = await run();
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
  return result;

  async function run(): Promise<ActivationView> {
    try {
      let reservation;
      try {
        // Non-cancellable: once asked, the hold must be known to this workflow, or a cancel
        // arriving meanwhile could leave it behind.
        reservation = await CancellationScope.nonCancellable(() => local.reserveFunds({
          activationId: input.activationId,
          userId: input.userId,
          serviceCode: input.serviceCode,
          countryIso: input.countryIso,
          maxPriceMicros: input.maxPriceMicros,
        }));
      } catch (error) {
        const type = failureType(error);
        if (type === null || isCancellation(error)) throw error;
        return await end('FAILED', type);
      }
      held = true;
      heldMicros = reservation.heldMicros;

      const sold = await buy(reservation.candidates);
      if (!sold) {
        await settle('release');
        return await end('FAILED', failureReason);
      }
      const ref = { providerId: sold.bought.providerId, upstreamId: sold.bought.upstreamId };
      // Non-cancellable like the purchase: the read model must name the number bought (provider,
      // upstream id, phone) even when a cancel arriving meanwhile gives it straight back.
      await CancellationScope.nonCancellable(() =>
        local.recordPurchase({ activationId: input.activationId, purchase: sold.bought, priceMicros: sold.candidate.sellMicros, costMicros: sold.candidate.costMicros, view: viewAs('ACTIVE') }),
      );
      setStatus('ACTIVE');

      let pollDelayMs = input.polling.initialMs;
      for (;;) {
        const untilExpiry = Date.parse(sold.bought.expiresAt) - Date.now();
        if (untilExpiry <= 0) {
          await drainInbox();
          return messages.length > 0 ? await finishAfterSms(ref) : await cancelAtProvider(ref, 'EXPIRED');
        }
        // Once the SMS is in and no other was asked for, there is nothing to poll for until expiry
        // (webhooks and the inbox poller still deliver extra messages). Patched: histories from
        // before this change poll on.
        const pollNow = awaitingSms || !patched(PATCH_POLL_ONLY_WHILE_AWAITING);
        const woke = await condition(() => inbox.length > 0 || (action !== null && !action.done), pollNow ? Math.min(pollDelayMs, untilExpiry) : untilExpiry);
        if (inbox.length > 0) {
          await drainInbox();
          continue;
        }
        if (action && !action.done) {
          const done = await carryOut(action, ref);
          if (done) return done;
          continue;
        }
        if (!woke && pollNow && Date.parse(sold.bought.expiresAt) > Date.now()) {
          const alive = await pollOnce(ref);
          await drainInbox();
          if (!alive) {
            // The provider closed the number on its own (its lifetime ran out first).
            return messages.length > 0 ? await end('COMPLETED') : await cancelAtProvider(ref, 'EXPIRED');
          }
          pollDelayMs = Math.min(pollDelayMs * 2, input.polling.maxMs);
        }
      }
    } catch (error) {
      if (failureType(error) === FailureType.DataInvalid) return await CancellationScope.nonCancellable(() => endAfterDataError(error));
      if (!isCancellation(error)) throw error;
      // Cancelled from the Temporal Web UI or by an admin: give the number back and refund, even
      // though this scope is being cancelled.
      return await CancellationScope.nonCancellable(async () => {
        const current = purchase as UpstreamPurchase | null;
        if (!current) {
          await settle('release');
          return end('CANCELLED', 'CANCELLED_BY_OPERATOR');
        }
        await drainInbox();
        const ref = { providerId: current.providerId, upstreamId: current.upstreamId };
        if (messages.length > 0) return finishAfterSms(ref);
        const wait = msUntilCancelAllowed();
        if (wait > 0) await sleep(wait);
        return cancelAtProvider(ref, 'CANCELLED');
      });
    }
  }

  /**
   * The database refused data this activation carried (a step failed with DATA_INVALID, which no
   * retry can fix): kept as an incident, and the activation ended with its money settled — the
   * customer pays for a code they were shown, and gets the hold back otherwise.
   */
  async function endAfterDataError(error: unknown): Promise<ActivationView> {
    const current = purchase as UpstreamPurchase | null;
    await local.recordDataIncident({
      activationId: input.activationId,
      providerId: current?.providerId ?? null,
      upstreamId: current?.upstreamId ?? null,
      activity: failedActivityType(error),
      sqlState: sqlStateOf(error),
    });
    failureReason = FailureType.DataInvalid;
    if (!current) {
      await settle('release');
      return end('FAILED', failureReason);
    }
    const ref = { providerId: current.providerId, upstreamId: current.upstreamId };
    if (messages.length > 0) {
      await settle('capture'); // the customer was shown the code, stored or not
      return finishAfterSms(ref);
    }
    return cancelAtProvider(ref, 'FAILED');
  }

  /** Runs one customer action at the provider; returns the final view when it ended the activation. */
  async function carryOut(pending: PendingAction, ref: { providerId: string; upstreamId: string }): Promise<ActivationView | null> {
    try {
      if (pending.kind === 'cancel') {
        await drainInbox();
        if (messages.length > 0) {
          pending.failure = refuse(FailureType.SmsAlreadyReceived, 'An SMS has already arrived; the number cannot be cancelled.');
          return null;
        }
        try {
          await upstream.cancelUpstream(ref);
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
        await settle('release');
        return await end('CANCELLED');
      }
      if (pending.kind === 'retry') {
        await upstream.requestAnotherSmsUpstream(ref);
        awaitingSms = true;
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

/** The first link of an error's cause chain that `pick` recognises (ActivityFailure → ApplicationFailure → …). */
export function inCauses<T>(error: unknown, pick: (link: object) => T | null): T | null {
  for (let current: unknown = error; current && typeof current === 'object'; current = (current as { cause?: unknown }).cause) {
    const found = pick(current);
    if (found !== null) return found;
  }
  return null;
}

/** The activity whose failure this is. */
export function failedActivityType(error: unknown): string | null {
  return inCauses(error, (link) => (link instanceof ActivityFailure ? link.activityType : null));
}

export function sqlStateOf(error: unknown): string | null {
  return inCauses(error, (link) =>
    link instanceof ApplicationFailure && link.type === FailureType.DataInvalid ? ((link.details?.[0] as { sqlState?: string } | undefined)?.sqlState ?? null) : null,
  );
}

export function failureType(error: unknown): string | null {
  return inCauses(error, (link) => (link instanceof ApplicationFailure && link.type ? link.type : null));
}
