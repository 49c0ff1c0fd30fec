/**
 * SMS arrival on the time-skipping server: by signal (webhook-shaped), by the workflow's own
 * fallback poll, and both at once — one message, one capture at the sell price, and at expiry
 * the number is finished at the provider.
 */
import { getActivationQuery, smsReceivedSignal } from '../../workflows/contracts';
import { useWorkflowTests } from './harness';
import { SELL_MICROS, activityAttempts, expectCaptured, expectHeld, moneyOf, recordOf, sms, untilActive, waitFor, waitForView } from './support';

const wf = useWorkflowTests('time-skipping');

describe('SMS (time-skipping server)', () => {
  it('poll then late webhooks: captured once at the sell price; the same SMS by poll and twice by signal is recorded once; polling stops after the SMS; COMPLETED and finished upstream at expiry', async () => {
    const s = await wf.scenario();
    const { userId, input, run } = await wf.activation(s, 'sms-signal');

    const { final, upstreamId, attempts } = await run(async (handle) => {
      const { upstreamId } = await untilActive(wf.infra, handle);
      expectHeld(await moneyOf(wf.infra, userId, input.activationId), SELL_MICROS.hero);

      // The provider has the SMS; the fallback poll (first at 30 s) reports it first …
      expect((await s.deliverSms('hero', upstreamId, '51423')).delivered).toBe(true);
      await wf.env.sleep('45 seconds');
      const withCode = await waitForView(handle, (v) => v.messages.length > 0);
      expect(withCode.messages).toEqual([{ seq: 1, code: '51423', text: '51423', receivedAt: expect.any(String) }]);
      expect(withCode.priceMicros).toBe(SELL_MICROS.hero.toString());
      expect(withCode.actions).toEqual({ cancel: false, retry: true, finish: true });
      const pollsUntilSms = (await activityAttempts(handle)).filter((a) => a.activity === 'pollUpstream').length;
      expect(pollsUntilSms).toBeGreaterThanOrEqual(1);

      // … then the provider's webhook reports the same SMS twice, late: recorded once.
      await handle.signal(smsReceivedSignal, sms('51423'));
      await handle.signal(smsReceivedSignal, sms('51423'));
      await wf.env.sleep('2 minutes');
      await waitForView(handle, () => true);
      // With the SMS in and no other requested, the workflow stops polling the provider.
      const polls = (await activityAttempts(handle)).filter((a) => a.activity === 'pollUpstream');
      expect(polls.length).toBe(pollsUntilSms);

      const view = await handle.query(getActivationQuery);
      expect(view.messages).toHaveLength(1);
      const signals = ((await handle.fetchHistory()).events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes);
      expect(signals).toHaveLength(2);
      expectCaptured(await moneyOf(wf.infra, userId, input.activationId), SELL_MICROS.hero, SELL_MICROS.hero);

      const final = await handle.result();
      return { final, upstreamId, attempts: await activityAttempts(handle) };
    });

    expect(final).toMatchObject({ status: 'COMPLETED', messages: [{ seq: 1, code: '51423' }] });
    // The SMS stored and the price captured in one step, once; then finished and recorded in one.
    expect(attempts.filter((a) => a.activity === 'recordSmsAndCapture')).toEqual([{ activity: 'recordSmsAndCapture', attempt: 1, outcome: 'completed' }]);
    expect(attempts.filter((a) => a.activity === 'finishAndClose')).toEqual([{ activity: 'finishAndClose', attempt: 1, outcome: 'completed' }]);
    expect(await s.upstream('hero', upstreamId)).toMatchObject({ state: 'DONE', codes: ['51423'] });
    expectCaptured(await moneyOf(wf.infra, userId, input.activationId), SELL_MICROS.hero, SELL_MICROS.hero);
    expect(await recordOf(wf.infra, input.activationId)).toMatchObject({ status: 'COMPLETED', priceMicros: SELL_MICROS.hero, codes: ['51423'] });
  });

  it('by polling only: the fallback poll picks up an SMS delivered at the provider', async () => {
    const s = await wf.scenario();
    const { userId, input, run } = await wf.activation(s, 'sms-poll');

    const { withCode, final, upstreamId } = await run(async (handle) => {
      const { upstreamId } = await untilActive(wf.infra, handle);
      expect((await s.deliverSms('hero', upstreamId, '777001')).delivered).toBe(true);

      // No signal: nothing happens until the first poll, 30 s after the purchase.
      expect((await handle.query(getActivationQuery)).messages).toEqual([]);
      await wf.env.sleep('45 seconds');
      const withCode = await waitForView(handle, (v) => v.messages.length > 0);
      await waitFor(async () => (await moneyOf(wf.infra, userId, input.activationId)).hold?.status === 'CAPTURED');
      const final = await handle.result();
      return { withCode, final, upstreamId };
    });

    // A polled SMS has no text of its own: the code stands in for it.
    expect(withCode.messages).toEqual([{ seq: 1, code: '777001', text: '777001', receivedAt: expect.any(String) }]);
    expect(final).toMatchObject({ status: 'COMPLETED', messages: [{ seq: 1, code: '777001' }] });
    expect(await s.upstream('hero', upstreamId)).toMatchObject({ state: 'DONE', codes: ['777001'] });
    expectCaptured(await moneyOf(wf.infra, userId, input.activationId), SELL_MICROS.hero, SELL_MICROS.hero);
    expect(await recordOf(wf.infra, input.activationId)).toMatchObject({ status: 'COMPLETED', codes: ['777001'] });
  });

  it('an SMS text the database cannot take (a NUL byte) never jams the purchase: one attempt, COMPLETED, captured, no hold left', async () => {
    const s = await wf.scenario();
    const { userId, input, run } = await wf.activation(s, 'sms-nul');

    const { final, attempts } = await run(async (handle) => {
      await untilActive(wf.infra, handle);
      // A webhook-shaped signal straight to the workflow, past every edge that cleans text.
      await handle.signal(smsReceivedSignal, sms('4242', 'webhook', 'Your code: 4242\u0000'));
      await waitFor(async () => (await moneyOf(wf.infra, userId, input.activationId)).hold?.status === 'CAPTURED');
      await wf.env.sleep('30 minutes');
      return { final: await handle.result(), attempts: await activityAttempts(handle) };
    });

    expect(final).toMatchObject({ status: 'COMPLETED', messages: [{ seq: 1, code: '4242' }] });
    expect(attempts.filter((a) => a.activity === 'recordSmsAndCapture')).toHaveLength(1);
    expectCaptured(await moneyOf(wf.infra, userId, input.activationId), SELL_MICROS.hero, SELL_MICROS.hero);
    expect(await recordOf(wf.infra, input.activationId)).toMatchObject({ status: 'COMPLETED' });
  });

  it('status polls that fail all their attempts (a 5xx burst) do not end the purchase: the next poll finds the SMS', async () => {
    const s = await wf.scenario();
    const { userId, input, run } = await wf.activation(s, 'sms-poll-faults');

    const { final, pollFailures } = await run(async (handle) => {
      const { upstreamId } = await untilActive(wf.infra, handle);
      // The first polls (30 s, then 60 s after the purchase) each fail both their attempts.
      await s.fault('hero', { action: 'getStatus', times: 4, reply: { status: 503 } });
      await wf.env.sleep('100 seconds');
      expect((await handle.describe()).status.name).toBe('RUNNING');
      expect((await s.deliverSms('hero', upstreamId, '909090')).delivered).toBe(true);
      await wf.env.sleep('3 minutes');
      await waitFor(async () => (await moneyOf(wf.infra, userId, input.activationId)).hold?.status === 'CAPTURED');
      const attempts = await activityAttempts(handle);
      return { final: await handle.query(getActivationQuery), pollFailures: attempts.filter((a) => a.activity === 'pollUpstream' && a.outcome !== 'completed').length };
    });

    expect(pollFailures).toBeGreaterThanOrEqual(1);
    expect(final).toMatchObject({ status: 'ACTIVE', messages: [{ seq: 1, code: '909090' }] });
    expectCaptured(await moneyOf(wf.infra, userId, input.activationId), SELL_MICROS.hero, SELL_MICROS.hero);
  });
});
