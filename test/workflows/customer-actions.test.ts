/**
 * Customer actions are Temporal updates with validators, so they run on the run's dev server (the
 * time-skipping server does not support updates) in real time — hence short provider durations:
 * a 10-second lifetime, polls every 200 ms to 1 s. A refused action is a WorkflowUpdateFailedError
 * whose cause is an ApplicationFailure with a stable type, and a refusal moves no money.
 */
import { WorkflowNotFoundError, WorkflowUpdateFailedError, WorkflowUpdateStage, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { ACTIVATION_WORKFLOW_TYPE, FailureType, cancelActivationUpdate, finishActivationUpdate, getActivationQuery, requestAnotherSmsUpdate, searchAttributes, type ActivationInput, type ActivationView } from '../../workflows/contracts';
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

  it('ops: SimGatePhase and SimGatePhaseSince tell a live number and an ended one apart (an SMS changes no phase), and the saved queries find them', async () => {
    const s = await devScenario();
    const list = async (query: string) => {
      const ids: string[] = [];
      for await (const execution of wf.client.workflow.list({ query })) ids.push(execution.workflowId);
      return ids;
    };
    await run(s, 'ops-phase', async ({ handle, input, userId, upstreamId }) => {
      const waiting = (await handle.describe()).typedSearchAttributes;
      expect(waiting.get(searchAttributes.phase)).toBe('WAITING_SMS');
      expect(waiting.get(searchAttributes.status)).toBe('ACTIVE');
      const waitingSince = waiting.get(searchAttributes.phaseSince)!;
      expect(waitingSince).toBeInstanceOf(Date);
      // "by user" and "by provider" (README), as the Temporal UI and the admin panel run them.
      const byUser = `WorkflowType = '${ACTIVATION_WORKFLOW_TYPE}' AND SimGateUserId = '${userId}'`;
      await waitFor(async () => (await list(`${byUser} AND SimGatePhase = 'WAITING_SMS'`)).includes(input.activationId));
      await waitFor(async () => (await list(`${byUser} AND SimGateProvider = '${s.providerId.hero}' AND ExecutionStatus = 'Running'`)).includes(input.activationId));

      await s.deliverSms('hero', upstreamId, '515151');
      await waitForView(handle, (v) => v.messages.length === 1);
      // No upsert for the SMS: no decision of ops rests on it, and the admin panel shows the SMS.
      const received = (await handle.describe()).typedSearchAttributes;
      expect(received.get(searchAttributes.phase)).toBe('WAITING_SMS');
      expect(received.get(searchAttributes.phaseSince)).toEqual(waitingSince);
      // Not stuck: the "stuck" query (phase BUYING/CANCELLING for too long) does not list it.
      const stuck = `${byUser} AND ExecutionStatus = 'Running' AND SimGatePhase IN ('BUYING', 'CANCELLING') AND SimGatePhaseSince < '${new Date(Date.now() + 60_000).toISOString()}'`;
      expect(await list(stuck)).toEqual([]);

      await handle.executeUpdate(finishActivationUpdate);
      const ended = (await handle.describe()).typedSearchAttributes;
      expect(ended.get(searchAttributes.phase)).toBe('ENDED');
      expect(ended.get(searchAttributes.status)).toBe('COMPLETED');
    });
  });

  it('ops: an expiry whose cancel the provider keeps failing shows as CANCELLING and is found by the "stuck" query; refunded once the provider answers', async () => {
    const s = await devScenario();
    await run(s, 'ops-stuck', async ({ handle, input, userId, upstreamId }) => {
      // The expiry's cancel fails through the activity's attempts (and more), so the workflow keeps asking.
      await s.fault('hero', { action: 'setStatus', times: 6, reply: { status: 503 } });
      const stuck = () =>
        `WorkflowType = '${ACTIVATION_WORKFLOW_TYPE}' AND SimGateUserId = '${userId}' AND ExecutionStatus = 'Running' AND SimGatePhase IN ('BUYING', 'CANCELLING') AND SimGatePhaseSince < '${new Date(Date.now() + 1000).toISOString()}'`;
      await waitFor(async () => (await handle.describe()).typedSearchAttributes.get(searchAttributes.phase) === 'CANCELLING', { timeoutMs: 40_000, intervalMs: 250 });
      await waitFor(async () => {
        const ids: string[] = [];
        for await (const execution of wf.client.workflow.list({ query: stuck() })) ids.push(execution.workflowId);
        return ids.includes(input.activationId);
      });
      expect((await handle.describe()).typedSearchAttributes.get(searchAttributes.status)).toBe('ACTIVE');
      expect(await handle.result()).toMatchObject({ status: 'EXPIRED' });
      expect(await s.upstream('hero', upstreamId)).toMatchObject({ state: 'CANCELLED' });
      expectReleased(await moneyOf(wf.infra, userId, input.activationId), SELL_MICROS.hero);
      expect((await handle.describe()).typedSearchAttributes.get(searchAttributes.phase)).toBe('ENDED');
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
        // Arriving after the first one ended the activation, a second is told so — or, once the
        // workflow has closed too, finds no workflow (the API then answers from the database).
        else if (!(result.reason instanceof WorkflowNotFoundError)) expect((await refusal(Promise.reject(result.reason))).type).toBe(FailureType.ActivationClosed);
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
