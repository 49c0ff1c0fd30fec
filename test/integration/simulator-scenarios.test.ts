import { FivesimAdapter } from '../../src/providers/fivesim.adapter';
import { SmsActivateAdapter } from '../../src/providers/sms-activate.adapter';
import type { ProviderAdapter } from '../../src/providers/types';
import { FIVESIM_SIM_TOKEN, fivesimTenant } from '../../src/simulator';
import { providerFailure } from '../support/rejections';
import { useSimulator } from '../support/simulator';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';

/**
 * The control API's scripted scenarios (src/simulator/scenarios.ts), each one for both wire
 * protocols, observed through the real adapters over HTTP and through the control API.
 */
const sim = useSimulator([{ id: 'classic', apiKey: 'key-classic', minCancelMs: 0 }, fivesimTenant()]);
const { control } = sim;
let receiver: WebhookReceiver;

interface Protocol {
  tenant: string;
  /** The tenant's own codes for Telegram in one country, and for a second service there. */
  service: string;
  other: string;
  country: string;
  balanceAction: string;
  adapter(options?: { timeoutMs?: number }): ProviderAdapter;
  /** The protocol's own status of an ended-without-code activation. */
  cancelledState: string;
}

const PROTOCOLS: Record<string, Protocol> = {
  'sms-activate': {
    tenant: 'classic',
    service: 'tg',
    other: 'wa',
    country: '6',
    balanceAction: 'getBalance',
    adapter: (options = {}) => new SmsActivateAdapter({ id: 'classic-sim', baseUrl: `${sim.url}/classic/stubs/handler_api.php`, apiKey: 'key-classic', timeoutMs: options.timeoutMs ?? 2_000 }),
    cancelledState: 'CANCELLED',
  },
  fivesim: {
    tenant: 'fivesim',
    service: 'telegram',
    other: 'whatsapp',
    country: 'indonesia',
    balanceAction: 'profile',
    adapter: (options = {}) => new FivesimAdapter({ id: '5sim-sim', baseUrl: `${sim.url}/fivesim/v1`, apiKey: FIVESIM_SIM_TOKEN, timeoutMs: options.timeoutMs ?? 2_000 }),
    cancelledState: 'CANCELED',
  },
};

beforeAll(async () => {
  receiver = await startWebhookReceiver();
});

afterAll(() => receiver.close());

describe.each(Object.entries(PROTOCOLS))('%s', (_name, p) => {
  let adapter: ProviderAdapter;
  const scenario = (body: Record<string, unknown>) => control('POST', `/${p.tenant}/scenario`, body);
  const buy = (service = p.service) => adapter.buy({ service, country: p.country });
  const activation = async (id: string) => (await control('GET', `/${p.tenant}/activations/${id}`)).json;
  const deliver = (id: string, code: string, text: string) => control('POST', `/${p.tenant}/activations/${id}/sms`, { code, text });

  beforeEach(async () => {
    await sim.reset(p.tenant, {
      offers: { [`${p.service}/${p.country}`]: { stock: 5, price: '0.35' }, [`${p.other}/${p.country}`]: { stock: 5, price: '0.20' } },
      balance: '10.00',
    });
    await control('PATCH', `/${p.tenant}/settings`, { webhookUrl: receiver.url });
    receiver.clear();
    adapter = p.adapter();
  });

  describe('stock-runs-out', () => {
    it('empties the matching offers after N purchases, leaving the others', async () => {
      expect((await scenario({ name: 'stock-runs-out', afterPurchases: 2, service: p.service, country: p.country })).status).toBe(201);
      expect((await control('GET', `/${p.tenant}/scenario`)).json.scenarios.stockRunsOut).toEqual([{ remaining: 2, service: p.service, country: p.country }]);
      await buy(p.other);
      await buy();
      await buy();
      expect((await providerFailure(buy())).kind).toBe('NO_NUMBERS');
      const offers = (await control('GET', `/${p.tenant}/offers?service=${p.service}&country=${p.country}`)).json.offers;
      expect(offers.map((offer: { stock: number }) => offer.stock)).toEqual([0]);
      await expect(buy(p.other)).resolves.toMatchObject({ phone: expect.stringMatching(/^\+\d+$/) });
      expect((await control('GET', `/${p.tenant}/scenario`)).json.scenarios.stockRunsOut).toEqual([]);
    });

    it('with afterPurchases 0, empties every offer at once', async () => {
      await scenario({ name: 'stock-runs-out', afterPurchases: 0 });
      expect((await providerFailure(buy())).kind).toBe('NO_NUMBERS');
      expect((await providerFailure(buy(p.other))).kind).toBe('NO_NUMBERS');
    });
  });

  describe('latency', () => {
    it('delays every call, until set back to 0', async () => {
      const response = await scenario({ name: 'latency', ms: 80 });
      expect(response.json.settings.latencyMs).toBe(80);
      let started = Date.now();
      await adapter.getBalance();
      expect(Date.now() - started).toBeGreaterThanOrEqual(75);
      await scenario({ name: 'latency', ms: 0 });
      started = Date.now();
      await adapter.getBalance();
      expect(Date.now() - started).toBeLessThan(75);
    });
  });

  describe('5xx-burst', () => {
    it('answers the next N calls with a 5xx error page, then recovers', async () => {
      await scenario({ name: '5xx-burst', calls: 2 });
      const raw = await fetch(p.tenant === 'classic' ? `${sim.url}/classic/stubs/handler_api.php?api_key=key-classic&action=getBalance` : `${sim.url}/fivesim/v1/guest/countries`);
      expect(raw.status).toBe(503);
      expect(await raw.text()).toContain('503 Service Temporarily Unavailable');
      const error = await providerFailure(adapter.getBalance());
      expect({ kind: error.kind, token: error.token }).toEqual({ kind: 'TRANSIENT', token: 'HTTP 503' });
      expect(await adapter.getBalance()).toBe(10_000_000n);
    });

    it('can target one action and another status', async () => {
      await scenario({ name: '5xx-burst', calls: 1, status: 502, action: p.balanceAction });
      const { upstreamId } = await buy();
      expect(await adapter.getStatus(upstreamId)).toEqual({ state: 'WAITING' });
      expect((await providerFailure(adapter.getBalance())).token).toBe('HTTP 502');
      expect(await adapter.getBalance()).toBe(9_650_000n);
    });
  });

  describe('timeouts', () => {
    it('holds the next N calls past the client timeout and never serves them', async () => {
      await scenario({ name: 'timeouts', calls: 1, hangMs: 300 });
      const error = await providerFailure(p.adapter({ timeoutMs: 80 }).buy({ service: p.service, country: p.country }));
      expect({ kind: error.kind, token: error.token }).toEqual({ kind: 'TRANSIENT', token: 'TIMEOUT' });
      // Nothing was bought by the call that hung.
      expect((await control('GET', `/${p.tenant}/activations`)).json.activations).toEqual([]);
      expect(await adapter.getBalance()).toBe(10_000_000n);
      expect((await control('GET', `/${p.tenant}/faults`)).json.faults).toEqual([]);
    });

    it('ends in a dropped connection for a patient client', async () => {
      await scenario({ name: 'timeouts', calls: 1, hangMs: 50, action: p.balanceAction });
      const error = await providerFailure(p.adapter({ timeoutMs: 2_000 }).getBalance());
      expect({ kind: error.kind, token: error.token }).toEqual({ kind: 'TRANSIENT', token: 'NETWORK' });
    });
  });

  describe('sms-after-expiry', () => {
    it('an armed late SMS arrives when the next activation is cancelled: recorded and posted, never shown', async () => {
      await scenario({ name: 'sms-after-expiry', code: '424242', text: 'Telegram code 424242' });
      const { upstreamId } = await buy();
      await adapter.cancel(upstreamId);
      const view = await activation(upstreamId);
      expect(view).toMatchObject({ state: p.cancelledState, sms: [], lateSms: [{ code: '424242', text: 'Telegram code 424242' }] });
      expect(await receiver.next(upstreamId)).toMatchObject({ activationId: Number(upstreamId), code: '424242', text: 'Telegram code 424242' });
      expect(await adapter.getStatus(upstreamId)).toEqual({ state: 'CANCELLED' });
      // One-shot: the next cancelled activation gets nothing.
      const next = await buy();
      await adapter.cancel(next.upstreamId);
      expect((await activation(next.upstreamId)).lateSms).toEqual([]);
    });

    it('for a named running activation, the late SMS arrives when it expires', async () => {
      const { upstreamId } = await buy();
      await scenario({ name: 'sms-after-expiry', activationId: upstreamId });
      expect((await activation(upstreamId)).lateSms).toEqual([]);
      await control('POST', '/clock', { advanceMs: 20 * 60_000 });
      const view = await activation(upstreamId);
      expect(view.state).toBe(p.tenant === 'classic' ? 'CANCELLED' : 'TIMEOUT');
      expect(view.lateSms).toEqual([{ code: expect.stringMatching(/^\d{5}$/), text: expect.any(String), receivedAt: expect.any(String) }]);
      expect(await receiver.next(upstreamId)).toMatchObject({ activationId: Number(upstreamId), code: view.lateSms[0].code });
      expect(await adapter.getStatus(upstreamId)).toEqual({ state: 'CANCELLED' });
    });

    it('for a named activation that has already ended, at once', async () => {
      const { upstreamId } = await buy();
      await adapter.cancel(upstreamId);
      await scenario({ name: 'sms-after-expiry', activationId: Number(upstreamId), code: '999000' });
      expect((await activation(upstreamId)).lateSms).toMatchObject([{ code: '999000' }]);
      expect(await receiver.next(upstreamId)).toMatchObject({ activationId: Number(upstreamId), code: '999000' });
    });

    it('404s an unknown activation', async () => {
      const response = await scenario({ name: 'sms-after-expiry', activationId: 1 });
      expect([response.status, response.json.error.code]).toEqual([404, 'UNKNOWN_ACTIVATION']);
    });
  });

  describe('wrong-code', () => {
    it('mismatch: the parsed code differs from the one in the text, once', async () => {
      await scenario({ name: 'wrong-code' });
      const { upstreamId } = await buy();
      await deliver(upstreamId, '51234', 'Telegram code 51234');
      const status = await adapter.getStatus(upstreamId);
      expect(status).toMatchObject({ state: 'CODE', code: '62345' });
      expect((await activation(upstreamId)).sms).toMatchObject([{ code: '62345', text: 'Telegram code 51234' }]);
      expect(await receiver.next(upstreamId)).toMatchObject({ code: '62345', text: 'Telegram code 51234' });
      const second = await buy();
      await deliver(second.upstreamId, '777888', 'Telegram code 777888');
      expect(await adapter.getStatus(second.upstreamId)).toMatchObject({ state: 'CODE', code: '777888' });
    });

    it('empty: `code` is "" and the code is only in the text', async () => {
      await scenario({ name: 'wrong-code', mode: 'empty', times: 2 });
      const { upstreamId } = await buy();
      await deliver(upstreamId, '51234', 'Telegram code 51234');
      expect((await activation(upstreamId)).sms).toMatchObject([{ code: '', text: 'Telegram code 51234' }]);
      expect(await receiver.next(upstreamId)).toMatchObject({ code: '', text: 'Telegram code 51234' });
      const status = await adapter.getStatus(upstreamId);
      if (p.tenant === 'fivesim') {
        // The 5sim adapter falls back to the digits in the text.
        expect(status).toEqual({ state: 'CODE', code: '51234', text: 'Telegram code 51234' });
      } else {
        // handler_api getStatus carries no text (`STATUS_OK:`); getStatusV2 has it.
        expect(status).toEqual({ state: 'CODE', code: '', text: null });
        expect(await (adapter as SmsActivateAdapter).getStatusV2(upstreamId)).toMatchObject({ state: 'ACTIVE', sms: { code: '', text: 'Telegram code 51234' } });
      }
      expect((await control('GET', `/${p.tenant}/scenario`)).json.scenarios.wrongCode).toEqual([{ mode: 'empty', remaining: 1 }]);
    });
  });

  describe('bookkeeping', () => {
    it('validates scenarios, lists, clears and forgets them on reset', async () => {
      expect((await scenario({ name: 'meteor' })).status).toBe(400);
      expect((await scenario({ name: 'latency' })).status).toBe(400);
      expect((await scenario({ name: '5xx-burst', calls: 1, status: 404 })).status).toBe(400);
      await scenario({ name: 'wrong-code', times: 3 });
      await scenario({ name: 'sms-after-expiry' });
      expect((await control('GET', `/${p.tenant}`)).json.scenarios).toEqual({
        stockRunsOut: [],
        smsAfterExpiry: [{ remaining: 1 }],
        wrongCode: [{ mode: 'mismatch', remaining: 3 }],
      });
      await control('DELETE', `/${p.tenant}/scenario`);
      expect((await control('GET', `/${p.tenant}/scenario`)).json.scenarios).toEqual({ stockRunsOut: [], smsAfterExpiry: [], wrongCode: [] });
      await scenario({ name: 'wrong-code' });
      await scenario({ name: '5xx-burst', calls: 3 });
      await control('POST', `/${p.tenant}/reset`);
      expect((await control('GET', `/${p.tenant}`)).json).toMatchObject({ faults: [], scenarios: { wrongCode: [] } });
    });
  });
});
