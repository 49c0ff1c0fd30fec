/**
 * One long-running poller per provider (id `provider-inbox-<providerId>`, started by
 * startBackgroundWork in src/runtime.ts): every `intervalMs` it asks the provider for all its
 * active activations at once and signals each activation workflow whose newest code it has not
 * signalled yet (activities/inbox.ts). The activation workflow de-duplicates whatever arrives
 * from webhooks, this inbox and its own fallback poll.
 *
 * The "last signalled" state is carried through continue-as-new (after `maxIterations` polls or
 * when the server suggests it), so an unchanged code is not signalled again by the next run.
 *
 * Every `reconcileEveryMs` it also reconciles the provider's open sales with our records
 * (activities/reconcile.ts): numbers nobody owns past the grace period are cancelled at the
 * provider and kept as ORPHAN_NUMBER incidents. The suspects (first seen unowned) are carried too.
 */
import { continueAsNew, isCancellation, log, patched, proxyActivities, setHandler, sleep, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { getProviderInboxQuery, type InboxSignalled, type ProviderInboxInput, type ProviderInboxState } from './contracts';

/** A poll is cheap and the next poll is the real retry: a couple of attempts, then move on. */
const inbox = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumAttempts: 2 },
});

const DEFAULT_INTERVAL_MS = 5000;
const DEFAULT_RECONCILE_EVERY_MS = 60_000;
const DEFAULT_ORPHAN_GRACE_MS = 120_000;
/** Workflow versioning marker: pollers started before reconciliation existed poll on without it. */
const PATCH_RECONCILES = 'inbox-reconciles-open-sales';
const DEFAULT_MAX_ITERATIONS = 500;
/** After failed polls, wait longer (doubling) up to this, so a provider that is down is not hammered. */
const MAX_BACKOFF_MS = 60_000;

export async function providerInboxWorkflow(input: ProviderInboxInput): Promise<{ providerId: string; stopped: 'provider-gone' }> {
  const intervalMs = Math.max(input.intervalMs ?? DEFAULT_INTERVAL_MS, 10);
  const maxIterations = Math.max(input.maxIterations ?? DEFAULT_MAX_ITERATIONS, 1);
  const state: ProviderInboxState = {
    providerId: input.providerId,
    iterations: 0,
    signalled: 0,
    consecutiveFailures: 0,
    lastSignalled: { ...(input.lastSignalled ?? {}) },
    suspects: { ...(input.suspects ?? {}) },
    orphansCancelled: 0,
    orphansWithSms: 0,
  };
  setHandler(getProviderInboxQuery, () => ({ ...state, lastSignalled: { ...state.lastSignalled }, suspects: { ...state.suspects } }));
  const reconcileEveryMs = Math.max(input.reconcileEveryMs ?? DEFAULT_RECONCILE_EVERY_MS, intervalMs);
  const graceMs = Math.max(input.orphanGraceMs ?? DEFAULT_ORPHAN_GRACE_MS, 0);
  let lastReconciledAt = -Infinity;

  /** Settles the provider's numbers nobody owns (activities/reconcile.ts); a failure waits for the next round. */
  const reconcile = async () => {
    if (Date.now() - lastReconciledAt < reconcileEveryMs) return;
    lastReconciledAt = Date.now();
    try {
      const result = await inbox.reconcileProvider({ providerId: input.providerId, suspects: state.suspects, graceMs });
      state.suspects = result.suspects;
      state.orphansCancelled += result.cancelled;
      state.orphansWithSms += result.withSms;
    } catch (error) {
      if (isCancellation(error)) throw error;
      log.warn('provider reconciliation failed', { providerId: input.providerId, error: String(error) });
    }
  };

  for (;;) {
    const pollStartedAt = Date.now();
    try {
      const result = await inbox.pollProviderInbox({ providerId: input.providerId, lastSignalled: state.lastSignalled });
      state.lastSignalled = result.lastSignalled;
      state.signalled += result.signalled.length;
      state.consecutiveFailures = 0;
      if (result.stop) {
        log.info('provider inbox stopped: provider gone or disabled with nothing to deliver', { providerId: input.providerId });
        return { providerId: input.providerId, stopped: 'provider-gone' };
      }
    } catch (error) {
      if (isCancellation(error)) throw error;
      state.consecutiveFailures += 1;
      log.warn('provider inbox poll failed', { providerId: input.providerId, failures: state.consecutiveFailures, error: String(error) });
    }
    state.iterations += 1;
    if (patched(PATCH_RECONCILES)) await reconcile();

    // Polls start every `intervalMs` (the poll's own time comes out of the pause), so an SMS waits
    // at most one interval plus one poll for the inbox to see it, however slow the poll.
    const backoff = state.consecutiveFailures === 0 ? intervalMs : Math.min(intervalMs * 2 ** state.consecutiveFailures, Math.max(MAX_BACKOFF_MS, intervalMs));
    await sleep(Math.max(backoff - (Date.now() - pollStartedAt), 1));
    if (state.iterations >= maxIterations || workflowInfo().continueAsNewSuggested) {
      const next: ProviderInboxInput = { ...input, lastSignalled: state.lastSignalled as InboxSignalled, suspects: state.suspects };
      await continueAsNew<typeof providerInboxWorkflow>(next);
    }
  }
}
