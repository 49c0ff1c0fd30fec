/**
 * Customer actions are Temporal updates with validators, so they run on the run's dev server (the
 * time-skipping server does not support updates) in real time — hence short provider durations:
 * a 10-second lifetime, polls every 200 ms to 1 s. A refused action is a WorkflowUpdateFailedError
 * whose cause is an ApplicationFailure with a stable type, and a refusal moves no money.
 */
import { WorkflowUpdateFailedError, WorkflowUpdateStage, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType, cancelActivationUpdate, finishActivationUpdate, getActivationQuery, requestAnotherSmsUpdate, searchAttributes, type ActivationInput, type ActivationView } from '../../workflows/contracts';
import { rejectionOf } from '../support/rejections';
import { useWorkflowTests } from './harness';
import { SELL_MICROS, activityAttempts, expectCaptured, expectHeld, expectReleased, moneyOf, recordOf, untilActive, waitFor, waitForView, type Scenario, type ScenarioOptions } from './support';

const FAST = { initialMs: 200, maxMs: 1000 };

const wf = useWorkflowTests('dev-server');

function devScenario(options: ScenarioOptions = {}): Promise<Scenario> {
  const short = { lifetimeSeconds: 10, minCancelSeconds: 0 };
  return wf.scenario({
    ...options,
    providers: { hero: { ...short, ...options.providers?.hero }, activate: { ...short, ...options.providers?.activate } },
  });
}

/** Starts an activation on its own task queue and runs `body` once it is ACTIVE, while a worker serves it. */
async function run<T>(s: Scenario, label: string, body: (ctx: { handle: WorkflowHandle; input: ActivationInput; userId: string; upstreamId: string; active: ActivationView }) => Promise<T>, overrides: Partial<ActivationInput> = {}): Promise<T> {
  const activation = await wf.activation(s, label, { input: { polling: FAST, ...overrides } });
  const { input, userId } = activation;
  return activation.run(async (handle) => {
    const { active, upstreamId } = await untilActive(wf.infra, handle);
    return body({ handle, input, userId, upstreamId, active });
  });
}

/** The ApplicationFailure an update was refused with. */
async function refusal(update: Promise<unknown>): Promise<ApplicationFailure> {
  const { cause } = await rejectionOf(update, WorkflowUpdateFailedError);
  expect(cause).toBeInstanceOf(ApplicationFailure);
  return cause as ApplicationFailure;
}

describe('customer actions (updates, dev server)', () => {
  it('cancel: refused before the minimum delay with CANCEL_TOO_EARLY and retryAfterSeconds, no money moves; accepted after it → CANCELLED and refunded', async () => {
    const s = await devScenario({ providers: { hero: { minCancelSeconds: 2 } } });
    await run(s, 'cancel', async ({ handle, input, userId, upstreamId, active }) => {
      expect(active.actions.cancel).toBe(false);
      const early = await refusal(handle.executeUpdate(cancelActivationUpdate));
      expect(early.type).toBe(FailureType.CancelTooEarly);
      expect(early.details).toEqual([{ retryAfterSeconds: expect.any(Number) }]);
      const { retryAfterSeconds } = early.details![0] as { retryAfterSeconds: number };
      expect(retryAfterSeconds).toBeGreaterThanOrEqual(1);
      expect(retryAfterSeconds).toBeLessThanOrEqual(2);
      // Refused in the validator: nothing happened, at the provider or in the wallet.
      expectHeld(await moneyOf(wf.infra, userId, input.activationId), SELL_MICROS.hero);
      expect(await s.upstream('hero', upstreamId)).toMatchObject({ state: 'WAIT' });
      expect((await handle.query(getActivationQuery)).status).toBe('ACTIVE');
      expect((await activityAttempts(handle)).some((a) => a.activity === 'cancelUpstream')).toBe(false);

      // The UI enables the button when the workflow says so; then the cancel goes through.
      await waitForView(handle, (v) => v.actions.cancel);
      const cancelled = await handle.executeUpdate(cancelActivationUpdate);
      expect(cancelled).toMatchObject({ status: 'CANCELLED', messages: [] });
      expect(await handle.result()).toMatchObject({ status: 'CANCELLED' });

      expect(await s.upstream('hero', upstreamId)).toMatchObject({ state: 'CANCELLED' });
      expectReleased(await moneyOf(wf.infra, userId, input.activationId), SELL_MICROS.hero);
      expect(await recordOf(wf.infra, input.activationId)).toMatchObject({ status: 'CANCELLED', providerId: s.providerId.hero });
      // What ops filter on in the Web UI and the admin panel.
      const { typedSearchAttributes } = await handle.describe();
      expect(typedSearchAttributes.get(searchAttributes.status)).toBe('CANCELLED');
      expect(typedSearchAttributes.get(searchAttributes.userId)).toBe(userId);
      expect(typedSearchAttributes.get(searchAttributes.providerId)).toBe(s.providerId.hero);
      expect(typedSearchAttributes.get(searchAttributes.serviceCode)).toBe('tg');
      expect(typedSearchAttributes.get(searchAttributes.countryIso)).toBe('ID');
    });
  });

  it('cancel refused by the provider (its minimum is longer than configured): CANCEL_TOO_EARLY, the workflow keeps running, no money moves', async () => {
    const s = await devScenario({ tenants: { hero: { minCancelMs: 60_000 } } });
    await run(s, 'cancel-provider-early', async ({ handle, input, userId, upstreamId }) => {
      const early = await refusal(handle.executeUpdate(cancelActivationUpdate));
      expect(early.type).toBe(FailureType.CancelTooEarly);
      // At least a second; the workflow does not (yet) use the provider's own hint here (HeroSMS says 60 s).
      expect(early.details).toEqual([{ retryAfterSeconds: expect.any(Number) }]);
      expect((early.details![0] as { retryAfterSeconds: number }).retryAfterSeconds).toBeGreaterThanOrEqual(1);
      expect(await handle.query(getActivationQuery)).toMatchObject({ status: 'ACTIVE', actions: { cancel: true } });
      expect((await handle.describe()).status.name).toBe('RUNNING');
      expect(await s.upstream('hero', upstreamId)).toMatchObject({ state: 'WAIT' });
      expectHeld(await moneyOf(wf.infra, userId, input.activationId), SELL_MICROS.hero);

      // Once the provider allows it, the same action succeeds.
      await s.settings('hero', { minCancelMs: 0 });
      expect(await handle.executeUpdate(cancelActivationUpdate)).toMatchObject({ status: 'CANCELLED' });
      expect(await s.upstream('hero', upstreamId)).toMatchObject({ state: 'CANCELLED' });
      expectReleased(await moneyOf(wf.infra, userId, input.activationId), SELL_MICROS.hero);
    });
  });

  it('after an SMS: cancel refused with SMS_ALREADY_RECEIVED; another SMS is recorded as seq 2 with one capture; finish → COMPLETED and DONE upstream', async () => {
    const s = await devScenario();
    const { userId, activationId, upstreamId } = await run(s, 'sms-actions', async ({ handle, input, userId, upstreamId }) => {
      // Nothing to finish or retry before the first SMS.
      expect((await refusal(handle.executeUpdate(finishActivationUpdate))).type).toBe(FailureType.NoSmsYet);
      expect((await refusal(handle.executeUpdate(requestAnotherSmsUpdate))).type).toBe(FailureType.NoSmsYet);

      await s.deliverSms('hero', upstreamId, '111111');
      await waitForView(handle, (v) => v.messages.length === 1);
      await waitFor(async () => (await moneyOf(wf.infra, userId, input.activationId)).hold?.status === 'CAPTURED');

      const refused = await refusal(handle.executeUpdate(cancelActivationUpdate));
      expect(refused.type).toBe(FailureType.SmsAlreadyReceived);
      expectCaptured(await moneyOf(wf.infra, userId, input.activationId), SELL_MICROS.hero, SELL_MICROS.hero);

      const retrying = await handle.executeUpdate(requestAnotherSmsUpdate);
      expect(retrying).toMatchObject({ status: 'ACTIVE', actions: { cancel: false, retry: false, finish: true } });
      expect(await s.upstream('hero', upstreamId)).toMatchObject({ state: 'WAIT_RETRY' });
      expect((await refusal(handle.executeUpdate(requestAnotherSmsUpdate))).type).toBe(FailureType.AlreadyAwaitingSms);

      await s.deliverSms('hero', upstreamId, '222222');
      const second = await waitForView(handle, (v) => v.messages.length === 2);
      expect(second.messages.map((m) => [m.seq, m.code])).toEqual([
        [1, '111111'],
        [2, '222222'],
      ]);

      expect(await handle.executeUpdate(finishActivationUpdate)).toMatchObject({ status: 'COMPLETED' });
      expect(await handle.result()).toMatchObject({ status: 'COMPLETED' });
      const attempts = await activityAttempts(handle);
      // Each SMS stored in one step with its capture (the first one only: the wallet shows one capture).
      expect(attempts.filter((a) => a.activity === 'recordSmsAndCapture')).toHaveLength(2);
      return { userId, activationId: input.activationId, upstreamId };
    });

    // Two messages, one capture; the provider closed the number as used.
    expect(await s.upstream('hero', upstreamId)).toMatchObject({ state: 'DONE', codes: ['111111', '222222'] });
    expectCaptured(await moneyOf(wf.infra, userId, activationId), SELL_MICROS.hero, SELL_MICROS.hero);
    expect(await recordOf(wf.infra, activationId)).toMatchObject({ status: 'COMPLETED', codes: ['111111', '222222'] });
  });

  it('two concurrent cancels: both answered, one provider cancel, one refund', async () => {
    const s = await devScenario();
    await run(s, 'double-cancel', async ({ handle, input, userId, upstreamId }) => {
      const results = await Promise.allSettled([handle.executeUpdate(cancelActivationUpdate), handle.executeUpdate(cancelActivationUpdate)]);
      for (const result of results) {
        if (result.status === 'fulfilled') expect(result.value).toMatchObject({ status: 'CANCELLED' });
        // Arriving after the first one ended the activation, a second is told so.
        else expect((await refusal(Promise.reject(result.reason))).type).toBe(FailureType.ActivationClosed);
      }
      expect(results.some((r) => r.status === 'fulfilled')).toBe(true);
      expect(await handle.result()).toMatchObject({ status: 'CANCELLED' });
      expect((await activityAttempts(handle)).filter((a) => a.activity === 'cancelUpstream' || a.activity === 'releaseAndClose')).toEqual([
        { activity: 'cancelUpstream', attempt: 1, outcome: 'completed' },
        { activity: 'releaseAndClose', attempt: 1, outcome: 'completed' },
      ]);
      expect(await s.upstream('hero', upstreamId)).toMatchObject({ state: 'CANCELLED' });
      expectReleased(await moneyOf(wf.infra, userId, input.activationId), SELL_MICROS.hero);
    });
  });

  it('a cancel accepted while the last poll before expiry is in flight is answered, and the workflow ends', async () => {
    const s = await devScenario({ providers: { hero: { requestTimeoutMs: 15_000 } } });
    await run(s, 'cancel-at-expiry', async ({ handle, input, userId, upstreamId, active }) => {
      // The next poll sits at the provider until after the 10-second expiry.
      const untilExpiry = Date.parse(active.expiresAt!) - Date.now();
      await s.fault('hero', { action: 'getStatus', times: 1, reply: { latencyMs: untilExpiry + 1500 } });
      await waitFor(async () => (await s.faults('hero')).length === 0);
      const update = await handle.startUpdate(cancelActivationUpdate, { waitForStage: WorkflowUpdateStage.ACCEPTED });

      const final = await Promise.race([
        handle.result(),
        new Promise<null>((resolve) => setTimeout(() => resolve(null), untilExpiry + 8000).unref()),
      ]);
      expect(final).toMatchObject({ status: 'EXPIRED' });
      // The customer asked for the cancel and got its effect: the number went back, the money too.
      expect(await update.result()).toMatchObject({ status: 'EXPIRED' });
      expect(await s.upstream('hero', upstreamId)).toMatchObject({ state: 'CANCELLED' });
      expectReleased(await moneyOf(wf.infra, userId, input.activationId), SELL_MICROS.hero);
    });
  }, 40_000);
});
