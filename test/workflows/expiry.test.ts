/**
 * Expiry on the time-skipping test server with the real 20-minute lifetime: nothing arrives, so
 * the workflow gives the number back to the provider and refunds — in seconds of wall time.
 */
import { getActivationQuery } from '../../workflows/contracts';
import { useWorkflowTests } from './harness';
import { SELL_MICROS, activityAttempts, expectCaptured, expectHeld, expectReleased, moneyOf, recordOf, untilActive, waitFor } from './support';

const wf = useWorkflowTests('time-skipping');

describe('expiry (time-skipping server, real 20-minute lifetime)', () => {
  it('without an SMS cancels at the provider, releases the funds and ends EXPIRED, in seconds', async () => {
    const s = await wf.scenario({ providers: { hero: { lifetimeSeconds: 1200 }, activate: { lifetimeSeconds: 1200 } } });
    const { userId, input, run } = await wf.activation(s, 'expiry');
    const wallStart = Date.now();

    const { active, final, upstreamId } = await run(async (handle) => {
      const { active, upstreamId } = await untilActive(wf.infra, handle);
      expectHeld(await moneyOf(wf.infra, userId, input.activationId), SELL_MICROS.hero);
      // Awaiting the result lets the server skip through the polls to the expiry timer.
      const final = await handle.result();
      expect(await handle.query(getActivationQuery)).toEqual(final);
      return { active, final, upstreamId };
    });
    const wallMs = Date.now() - wallStart;

    // The real lifetime: 20 minutes between purchase and expiry, skipped in well under a minute of wall time.
    expect(Date.parse(active.expiresAt!) - Date.parse(active.cancelAllowedAt!)).toBe(1200 * 1000);
    expect(wallMs).toBeLessThan(20_000);
    expect(active.providerId).toBe(s.providerId.hero);
    expect(active.heldMicros).toBe(SELL_MICROS.hero.toString());

    expect(final).toMatchObject({ status: 'EXPIRED', failureReason: null, messages: [], actions: { cancel: false, retry: false, finish: false } });
    expect(await s.upstream('hero', upstreamId)).toMatchObject({ state: 'CANCELLED', codes: [] });
    expectReleased(await moneyOf(wf.infra, userId, input.activationId), SELL_MICROS.hero);
    expect(await recordOf(wf.infra, input.activationId)).toMatchObject({ status: 'EXPIRED', providerId: s.providerId.hero, codes: [] });
  });

  it('an SMS that reaches the provider after the last poll is found by the refused cancel at expiry: COMPLETED, captured, finished upstream', async () => {
    const s = await wf.scenario();
    const { userId, input, run } = await wf.activation(s, 'expiry-late-sms');

    const { final, upstreamId, attempts } = await run(async (handle) => {
      const { upstreamId } = await untilActive(wf.infra, handle);
      // Polls at 30, 90, 210, 450, 750 and 1050 s; none after that before the expiry at 1200 s.
      await wf.env.sleep('1100 seconds');
      expect((await handle.query(getActivationQuery)).messages).toEqual([]);
      expect((await s.deliverSms('hero', upstreamId, '600600')).delivered).toBe(true);
      const final = await handle.result();
      return { final, upstreamId, attempts: await activityAttempts(handle) };
    });

    // The provider refused the cancel because of the code; the workflow took the code instead.
    expect(attempts.filter((a) => a.activity === 'cancelUpstream')).toEqual([{ activity: 'cancelUpstream', attempt: 1, outcome: 'failed' }]);
    expect(final).toMatchObject({ status: 'COMPLETED', messages: [{ seq: 1, code: '600600' }] });
    expect(await s.upstream('hero', upstreamId)).toMatchObject({ state: 'DONE', codes: ['600600'] });
    expectCaptured(await moneyOf(wf.infra, userId, input.activationId), SELL_MICROS.hero, SELL_MICROS.hero);
  });

  it('the provider ends the number before our expiry (its lifetime is shorter): the poll sees it, funds released, EXPIRED', async () => {
    const s = await wf.scenario();
    await s.settings('hero', { lifetimeMs: 500 });
    const { userId, input, run } = await wf.activation(s, 'expiry-provider-first');

    const { final, upstreamId } = await run(async (handle) => {
      const { upstreamId } = await untilActive(wf.infra, handle);
      await waitFor(async () => (await s.upstream('hero', upstreamId)).state === 'CANCELLED');
      // The first poll, 30 s in, finds the number gone.
      await wf.env.sleep('45 seconds');
      return { final: await handle.result(), upstreamId };
    });

    expect(final).toMatchObject({ status: 'EXPIRED', messages: [] });
    expect(Date.parse(final.expiresAt!)).toBeGreaterThan(Date.parse(final.cancelAllowedAt!) + 1000 * 1000);
    expect(await s.upstream('hero', upstreamId)).toMatchObject({ state: 'CANCELLED' });
    expectReleased(await moneyOf(wf.infra, userId, input.activationId), SELL_MICROS.hero);
  });
});
