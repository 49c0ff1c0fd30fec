import { SmsActivateAdapter } from '../../src/providers/sms-activate.adapter';
import { ProviderError } from '../../src/providers/types';

/**
 * Reply shapes the bundled simulator never sends but real providers do (string counts, numeric
 * ids, `smsCode` as a bare string, `+` in phones…), fed through a fake fetch.
 */
function adapterAnswering(body: string, status = 200) {
  const urls: URL[] = [];
  const fetch = (async (input: string | URL | Request) => {
    urls.push(new URL(String(input)));
    return new Response(body, { status });
  }) as typeof globalThis.fetch;
  return { adapter: new SmsActivateAdapter({ id: 'p', baseUrl: 'https://provider.test/stubs/handler_api.php?lang=en', apiKey: 'k', timeoutMs: 1000, fetch }), urls };
}

describe('SmsActivateAdapter reply formats', () => {
  it('sends api_key, action and parameters in the query string, keeping the base URL’s own', async () => {
    const { adapter, urls } = adapterAnswering('{"activationId":"5","phoneNumber":"447000000001","activationCost":"0.014"}');
    await adapter.buy({ service: 'tg', country: '16', maxPriceMicros: 14_000n });
    expect(Object.fromEntries(urls[0].searchParams)).toEqual({ lang: 'en', api_key: 'k', action: 'getNumberV2', service: 'tg', country: '16', maxPrice: '0.014' });
  });

  it('accepts string ids and costs, and phones with a +', async () => {
    const { adapter } = adapterAnswering('{"activationId":"3412345678","phoneNumber":"+62 812-3456-7890","activationCost":"0.35"}');
    expect(await adapter.buy({ service: 'tg', country: '6' })).toEqual({ upstreamId: '3412345678', phone: '+6281234567890', costMicros: 350_000n });
  });

  it('accepts a getNumberV2 without a cost', async () => {
    const { adapter } = adapterAnswering('{"activationId":3412345678,"phoneNumber":6281234567890}');
    expect(await adapter.buy({ service: 'tg', country: '6' })).toEqual({ upstreamId: '3412345678', phone: '+6281234567890', costMicros: null });
  });

  it('flattens prices with string counts and string costs', async () => {
    const { adapter } = adapterAnswering('{"6":{"tg":{"cost":"0.35","count":"1200","physicalCount":900}},"16":{"wa":{"cost":1,"count":0}}}');
    expect(await adapter.getPrices()).toEqual([
      { service: 'tg', country: '6', costMicros: 350_000n, stock: 1200 },
      { service: 'wa', country: '16', costMicros: 1_000_000n, stock: 0 },
    ]);
  });

  it('parses active activations with numeric ids and smsCode as null, a string or a list', async () => {
    const { adapter } = adapterAnswering(
      JSON.stringify({
        status: 'success',
        activeActivations: [
          { activationId: 1, serviceCode: 'tg', phoneNumber: '6281234567890', smsCode: null, smsText: null },
          { activationId: '2', serviceCode: 'wa', phoneNumber: 447000000001, smsCode: '51234', smsText: '[code 51234]' },
          { activationId: '3', serviceCode: 'go', phoneNumber: '79990001122', smsCode: ['1', 2] },
        ],
      }),
    );
    expect(await adapter.getActiveActivations()).toEqual([
      { upstreamId: '1', service: 'tg', phone: '+6281234567890', codes: [], text: null },
      { upstreamId: '2', service: 'wa', phone: '+447000000001', codes: ['51234'], text: '[code 51234]' },
      { upstreamId: '3', service: 'go', phone: '+79990001122', codes: ['1', '2'], text: null },
    ]);
  });

  it('maps STATUS_WAIT_RESEND to WAITING', async () => {
    expect(await adapterAnswering('STATUS_WAIT_RESEND').adapter.getStatus('1')).toEqual({ state: 'WAITING' });
  });

  it.each([
    ['getBalance with a negative balance', 'ACCESS_BALANCE:-1.00', (a: SmsActivateAdapter) => a.getBalance()],
    ['getPrices with a float count', '{"6":{"tg":{"cost":0.35,"count":1.5}}}', (a: SmsActivateAdapter) => a.getPrices()],
    ['getNumberV2 without a phone', '{"activationId":1}', (a: SmsActivateAdapter) => a.buy({ service: 'tg', country: '6' })],
    ['getNumberV2 with a non-phone', '{"activationId":1,"phoneNumber":"12"}', (a: SmsActivateAdapter) => a.buy({ service: 'tg', country: '6' })],
    ['getStatus answering JSON', '{"status":"success"}', (a: SmsActivateAdapter) => a.getStatus('1')],
    ['a getNumber token with a non-numeric id', 'ACCESS_NUMBER:abc:628', (a: SmsActivateAdapter) => a.buy({ service: 'tg', country: '6' })],
  ])('%s is TRANSIENT', async (_name, body, run) => {
    const error = await run(adapterAnswering(body).adapter).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).kind).toBe('TRANSIENT');
  });
});

/** A hostile provider's text (src/lib/text.ts): cleaned, never refused — the SMS must reach the customer. */
describe('SmsActivateAdapter with invalid text in SMS replies', () => {
  it('cleans a raw NUL out of a bare STATUS_OK token', async () => {
    const { adapter } = adapterAnswering('STATUS_OK:12\u000034');
    expect(await adapter.getStatus('1')).toEqual({ state: 'CODE', code: '1234', text: null });
  });

  it('cleans escaped NULs, controls and lone surrogates in active activations; a code of nothing but NUL is dropped', async () => {
    const { adapter } = adapterAnswering(
      JSON.stringify({
        status: 'success',
        activeActivations: [
          { activationId: 1, serviceCode: 'tg', phoneNumber: '6281234567890', smsCode: ['51\u0000234', '\u0000'], smsText: 'code\u0000 51234 \uD83D\u0007' },
          { activationId: 2, serviceCode: 'wa', phoneNumber: '447000000001', smsCode: '\u0000', smsText: null },
        ],
      }),
    );
    expect(await adapter.getActiveActivations()).toEqual([
      { upstreamId: '1', service: 'tg', phone: '+6281234567890', codes: ['51234'], text: 'code 51234 \uFFFD' },
      { upstreamId: '2', service: 'wa', phone: '+447000000001', codes: [], text: null },
    ]);
  });

  it('cleans the SMS and call of getStatusV2, raw or escaped', async () => {
    const escaped = JSON.stringify({ verificationType: 0, sms: { dateTime: '2026-01-01 10:00:00', code: '77\u000088', text: 'Code\u0000 7788' }, call: null });
    expect(await adapterAnswering(escaped).adapter.getStatusV2('1')).toEqual({
      state: 'ACTIVE',
      verificationType: 0,
      sms: { code: '7788', text: 'Code 7788', receivedAt: '2026-01-01 10:00:00' },
      call: null,
    });
    // A raw control inside a JSON string makes it invalid JSON; cleaned first, it is read.
    const raw = '{"verificationType":2,"sms":null,"call":{"from":"+1","text":"say 55\u000066","code":"55\u000066","dateTime":null,"url":null}}';
    expect(await adapterAnswering(raw).adapter.getStatusV2('1')).toMatchObject({ call: { code: '5566', text: 'say 5566' } });
  });
});
