/**
 * SMS arrival on the time-skipping server: by signal (webhook-shaped), by the workflow's own
 * fallback poll, and both at once — one message, one capture at the sell price, and at expiry
 * the number is finished at the provider.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { activationWorkflow } from '../../workflows/activation';
import { getActivationQuery, smsReceivedSignal } from '../../workflows/contracts';
import {
  SELL_MICROS,
  activationInput,
  closeAll,
  activityAttempts,
  createTimeSkippingEnv,
  expectCaptured,
  expectHeld,
  isActive,
  moneyOf,
  newCustomer,
  openInfra,
  recordOf,
  serverClock,
  sms,
  startScenario,
  timeSkippingWorker,
  uniqueTaskQueue,
  upstreamIdOf,
  waitFor,
  waitForView,
  type Infra,
  type Scenario,
} from './support';

let env: TestWorkflowEnvironment;
let infra: Infra;
let scenario: Scenario | undefined;
const clock = serverClock();

beforeAll(async () => {
  // One after the other: if the second fails, afterAll still closes the first.
  env = await createTimeSkippingEnv();
  infra = await openInfra();
});
afterAll(async () => {
  await closeAll(
    () => infra?.close(),
    () => env?.teardown(),
  );
});
beforeEach(async () => {
  await clock.sync(env);
});
afterEach(async () => {
  const closing = scenario;
  scenario = undefined;
  await closing?.close();
});

describe('SMS (time-skipping server)', () => {
  it('poll then late webhooks: captured once at the sell price; the same SMS by poll and twice by signal is recorded once; polling stops after the SMS; COMPLETED and finished upstream at expiry', async () => {
    scenario = await startScenario(infra, { now: clock.now });
    const userId = await newCustomer(infra);
    const input = activationInput(userId);
    const taskQueue = uniqueTaskQueue('sms-signal');
    const worker = await timeSkippingWorker(env, taskQueue, scenario);
    const s = scenario;

    const { final, upstreamId, attempts } = await worker.runUntil(async () => {
      const handle = await env.client.workflow.start(activationWorkflow, { args: [input], workflowId: input.activationId, taskQueue });
      await waitForView(handle, isActive);
      const upstreamId = await upstreamIdOf(infra, input.activationId);
      expectHeld(await moneyOf(infra, userId, input.activationId), SELL_MICROS.hero);

      // The provider has the SMS; the fallback poll (first at 30 s) reports it first …
      expect((await s.deliverSms('hero', upstreamId, '51423')).delivered).toBe(true);
      await env.sleep('45 seconds');
      const withCode = await waitForView(handle, (v) => v.messages.length > 0);
      expect(withCode.messages).toEqual([{ seq: 1, code: '51423', text: '51423', receivedAt: expect.any(String) }]);
      expect(withCode.priceMicros).toBe(SELL_MICROS.hero.toString());
      expect(withCode.actions).toEqual({ cancel: false, retry: true, finish: true });
      const pollsUntilSms = (await activityAttempts(handle)).filter((a) => a.activity === 'pollUpstream').length;
      expect(pollsUntilSms).toBeGreaterThanOrEqual(1);

      // … then the provider's webhook reports the same SMS twice, late: recorded once.
      await handle.signal(smsReceivedSignal, sms('51423'));
      await handle.signal(smsReceivedSignal, sms('51423'));
      await env.sleep('2 minutes');
      await waitForView(handle, () => true);
      // With the SMS in and no other requested, the workflow stops polling the provider.
      const polls = (await activityAttempts(handle)).filter((a) => a.activity === 'pollUpstream');
      expect(polls.length).toBe(pollsUntilSms);

      const view = await handle.query(getActivationQuery);
      expect(view.messages).toHaveLength(1);
      const signals = ((await handle.fetchHistory()).events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes);
      expect(signals).toHaveLength(2);
      expectCaptured(await moneyOf(infra, userId, input.activationId), SELL_MICROS.hero, SELL_MICROS.hero);

      const final = await handle.result();
      return { final, upstreamId, attempts: await activityAttempts(handle) };
    });

    expect(final).toMatchObject({ status: 'COMPLETED', messages: [{ seq: 1, code: '51423' }] });
    expect(attempts.filter((a) => a.activity === 'captureFunds')).toEqual([{ activity: 'captureFunds', attempt: 1, outcome: 'completed' }]);
    expect(attempts.filter((a) => a.activity === 'recordSms')).toHaveLength(1);
    expect(attempts.filter((a) => a.activity === 'finishUpstream')).toEqual([{ activity: 'finishUpstream', attempt: 1, outcome: 'completed' }]);
    expect(await s.upstream('hero', upstreamId)).toMatchObject({ state: 'DONE', codes: ['51423'] });
    expectCaptured(await moneyOf(infra, userId, input.activationId), SELL_MICROS.hero, SELL_MICROS.hero);
    expect(await recordOf(infra, input.activationId)).toMatchObject({ status: 'COMPLETED', priceMicros: SELL_MICROS.hero, codes: ['51423'] });
  });

  it('by polling only: the fallback poll picks up an SMS delivered at the provider', async () => {
    scenario = await startScenario(infra, { now: clock.now });
    const userId = await newCustomer(infra);
    const input = activationInput(userId);
    const taskQueue = uniqueTaskQueue('sms-poll');
    const worker = await timeSkippingWorker(env, taskQueue, scenario);
    const s = scenario;

    const { withCode, final, upstreamId } = await worker.runUntil(async () => {
      const handle = await env.client.workflow.start(activationWorkflow, { args: [input], workflowId: input.activationId, taskQueue });
      await waitForView(handle, isActive);
      const upstreamId = await upstreamIdOf(infra, input.activationId);
      expect((await s.deliverSms('hero', upstreamId, '777001')).delivered).toBe(true);

      // No signal: nothing happens until the first poll, 30 s after the purchase.
      expect((await handle.query(getActivationQuery)).messages).toEqual([]);
      await env.sleep('45 seconds');
      const withCode = await waitForView(handle, (v) => v.messages.length > 0);
      await waitFor(async () => (await moneyOf(infra, userId, input.activationId)).hold?.status === 'CAPTURED');
      const final = await handle.result();
      return { withCode, final, upstreamId };
    });

    // A polled SMS has no text of its own: the code stands in for it.
    expect(withCode.messages).toEqual([{ seq: 1, code: '777001', text: '777001', receivedAt: expect.any(String) }]);
    expect(final).toMatchObject({ status: 'COMPLETED', messages: [{ seq: 1, code: '777001' }] });
    expect(await s.upstream('hero', upstreamId)).toMatchObject({ state: 'DONE', codes: ['777001'] });
    expectCaptured(await moneyOf(infra, userId, input.activationId), SELL_MICROS.hero, SELL_MICROS.hero);
    expect(await recordOf(infra, input.activationId)).toMatchObject({ status: 'COMPLETED', codes: ['777001'] });
  });
});

