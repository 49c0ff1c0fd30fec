/**
 * Choosing a provider, on the time-skipping server: the cheapest one is tried first; one with no
 * numbers is skipped; transient faults are retried by the activity's retry policy before the
 * next provider is tried; when nobody sells, the funds go back and the workflow ends FAILED.
 *
 * The customer's ceiling is $1 here (hold 1.00): with no ceiling the hold is the best price, and
 * only providers at that price are candidates.
 */
import { smsReceivedSignal, type ActivationInput } from '../../workflows/contracts';
import { useWorkflowTests } from './harness';
import { SELL_MICROS, activityAttempts, expectCaptured, expectReleased, isActive, moneyOf, recordOf, sms, upstreamIdOf, waitForView, type Scenario, type TenantId } from './support';

const CEILING = 1_000_000n;

const wf = useWorkflowTests('time-skipping');

/**
 * Starts a purchase, skips past the retry back-offs, and — when a number was bought — has an SMS
 * arrive and lets the workflow run to expiry. Returns what the test asserts on.
 */
async function purchase(s: Scenario, label: string, overrides: Partial<ActivationInput> = { maxPriceMicros: CEILING.toString() }) {
  const { userId, input, run } = await wf.activation(s, label, { input: overrides });
  return run(async (handle) => {
    // Retry back-offs are server timers: skip them (the first poll is 30 s after a purchase).
    await wf.env.sleep('10 seconds');
    const settled = await waitForView(handle, (v) => v.status !== 'RESERVED');
    let upstream: { tenant: TenantId; id: string } | null = null;
    if (isActive(settled)) {
      const tenant = s.tenantOf(settled.providerId!);
      upstream = { tenant, id: await upstreamIdOf(wf.infra, input.activationId) };
      await s.deliverSms(tenant, upstream.id, '246810');
      await handle.signal(smsReceivedSignal, sms('246810'));
    }
    const final = await handle.result();
    return { userId, input, final, upstream, attempts: await activityAttempts(handle) };
  });
}

/** The steps that buy: the hold with the first provider's buy (holdAndBuy), then one buyAndRecord per further provider. */
const buys = (attempts: { activity: string; attempt: number; outcome: string }[]) => attempts.filter((a) => a.activity === 'holdAndBuy' || a.activity === 'buyAndRecord');

describe('provider failover (time-skipping server)', () => {
  it('the cheapest provider has no numbers (stock gone after the catalog sync): the next one sells', async () => {
    const s = await wf.scenario();
    await s.setOffer('hero', { stock: 0 });

    const { userId, input, final, upstream, attempts } = await purchase(s, 'failover-stock');

    expect(buys(attempts)).toEqual([
      // NO_NUMBERS is not retried: the step answers with the refusal, and the hold stands.
      { activity: 'holdAndBuy', attempt: 1, outcome: 'completed' },
      { activity: 'buyAndRecord', attempt: 1, outcome: 'completed' },
    ]);
    expect(final).toMatchObject({ status: 'COMPLETED', providerId: s.providerId.activate, heldMicros: CEILING.toString(), priceMicros: SELL_MICROS.activate.toString() });
    expect(upstream?.tenant).toBe('activate');
    expect(await s.upstreamList('hero')).toEqual([]);
    expect(await s.upstream('activate', upstream!.id)).toMatchObject({ state: 'DONE', codes: ['246810'] });
    // Held the ceiling, spent the activate price, the rest went back.
    expectCaptured(await moneyOf(wf.infra, userId, input.activationId), CEILING, SELL_MICROS.activate);
    expect(await recordOf(wf.infra, input.activationId)).toMatchObject({ status: 'COMPLETED', providerId: s.providerId.activate, priceMicros: SELL_MICROS.activate });
  });

  it('the cheapest provider answers NO_NUMBERS (injected): the next one sells', async () => {
    const s = await wf.scenario();
    await s.fault('hero', { action: 'getNumberV2', times: 1, reply: { token: 'NO_NUMBERS' } });

    const { userId, input, final, attempts } = await purchase(s, 'failover-token');

    expect(buys(attempts).map((a) => `${a.activity} ${a.outcome}`)).toEqual(['holdAndBuy completed', 'buyAndRecord completed']);
    expect(final).toMatchObject({ status: 'COMPLETED', providerId: s.providerId.activate });
    expectCaptured(await moneyOf(wf.infra, userId, input.activationId), CEILING, SELL_MICROS.activate);
  });

  it('no provider has numbers: FAILED with NO_NUMBERS, funds released, nothing captured', async () => {
    const s = await wf.scenario();
    await s.setOffer('hero', { stock: 0 });
    await s.fault('activate', { action: 'getNumberV2', times: 1, reply: { token: 'NO_NUMBERS' } });

    const { userId, input, final, upstream, attempts } = await purchase(s, 'failover-none');

    expect(upstream).toBeNull();
    expect(buys(attempts).map((a) => `${a.activity} ${a.outcome}`)).toEqual(['holdAndBuy completed', 'buyAndRecord failed']);
    expect(final).toMatchObject({ status: 'FAILED', failureReason: 'NO_NUMBERS', providerId: null, priceMicros: null, messages: [] });
    expect(await s.upstreamList('hero')).toEqual([]);
    expect(await s.upstreamList('activate')).toEqual([]);
    expectReleased(await moneyOf(wf.infra, userId, input.activationId), CEILING);
    expect(await recordOf(wf.infra, input.activationId)).toMatchObject({ status: 'FAILED', failureReason: 'NO_NUMBERS' });
  });

  it('a transient 5xx burst on the cheapest provider is retried by the activity, which then buys there', async () => {
    const s = await wf.scenario();
    await s.fault('hero', { action: 'getNumberV2', times: 2, reply: { status: 503 } });

    const { userId, input, final, attempts } = await purchase(s, 'retry-5xx');

    // One step, three attempts (the hold is found again, not repeated); no failover.
    expect(buys(attempts)).toEqual([{ activity: 'holdAndBuy', attempt: 3, outcome: 'completed' }]);
    expect(await s.faults('hero')).toEqual([]);
    expect(final).toMatchObject({ status: 'COMPLETED', providerId: s.providerId.hero });
    expect(await s.upstreamList('activate')).toEqual([]);
    expectCaptured(await moneyOf(wf.infra, userId, input.activationId), CEILING, SELL_MICROS.hero);
  });

  it('a 5xx burst outlasting the retries fails over to the next provider', async () => {
    const s = await wf.scenario();
    await s.fault('hero', { action: 'getNumberV2', times: 3, reply: { status: 500, body: 'upstream exploded' } });

    const { userId, input, final, attempts } = await purchase(s, 'retry-then-failover');

    expect(buys(attempts)).toEqual([
      { activity: 'holdAndBuy', attempt: 3, outcome: 'failed' },
      { activity: 'buyAndRecord', attempt: 1, outcome: 'completed' },
    ]);
    // The hold alone, between the two: it answers the hold the failed step made.
    expect(attempts.filter((a) => a.activity === 'reserveFunds')).toEqual([{ activity: 'reserveFunds', attempt: 1, outcome: 'completed' }]);
    expect(final).toMatchObject({ status: 'COMPLETED', providerId: s.providerId.activate });
    expect(await s.upstreamList('hero')).toEqual([]);
    expectCaptured(await moneyOf(wf.infra, userId, input.activationId), CEILING, SELL_MICROS.activate);
  });

  it('every provider failing for different reasons: FAILED naming each, funds released', async () => {
    const s = await wf.scenario();
    await s.fault('hero', { action: 'getNumberV2', times: 3, reply: { status: 502 } });
    await s.setOffer('activate', { stock: 0 });

    const { userId, input, final } = await purchase(s, 'failover-mixed');

    expect(final.status).toBe('FAILED');
    expect(final.failureReason).toBe(`NO_PROVIDER_COULD_SELL (${s.providerId.hero}: PROVIDER_TRANSIENT; ${s.providerId.activate}: PROVIDER_NO_NUMBERS)`);
    expectReleased(await moneyOf(wf.infra, userId, input.activationId), CEILING);
  });

  it('not enough money to hold: FAILED with INSUFFICIENT_FUNDS, nothing held, nothing bought', async () => {
    const s = await wf.scenario();
    const { userId, input, run } = await wf.activation(s, 'no-funds', { credit: 100_000n }); // $0.10, below the $0.13 best price

    const final = await run((handle) => handle.result());

    expect(final).toMatchObject({ status: 'FAILED', failureReason: 'INSUFFICIENT_FUNDS', heldMicros: null });
    expect(await moneyOf(wf.infra, userId, input.activationId)).toEqual({ availableMicros: 100_000n, heldMicros: 0n, hold: null, entries: [], invariants: [] });
    expect(await s.upstreamList('hero')).toEqual([]);
  });
});
