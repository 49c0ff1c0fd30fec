import { formatPhone, groupDigits, hashQuery } from '../../ui/format';
import { deliveryLabel, missingMicros, topUpHref } from '../../web/src/lib/catalog';
import { actionsAt } from '../../src/activations/view-clock';
import { hasRealMatch, relevantOnly, type MatchKind } from '../../src/catalog/search/search-engine';
import { activationIdPattern, simulatorSmsUrl } from '../../src/bin/sms-target';

describe('phone numbers, grouped for reading', () => {
  it.each([
    ['+447911123456', '44', '+44 791 112 3456'],
    ['+12025550123', '1', '+1 202 555 0123'],
    ['+6281234567890', '62', '+62 812 3456 7890'],
    ['+573001234567', '57', '+57 300 123 4567'],
    ['+79001234567', '7', '+7 900 123 4567'],
  ])('%s (dial %s) → %s', (phone, dial, shown) => {
    expect(formatPhone(phone, dial)).toBe(shown);
    // Only spaces are added: the digits are the number as sold.
    expect(formatPhone(phone, dial).replace(/ /g, '')).toBe(phone);
  });

  it('groups without a known dialling code, and leaves what is not a number alone', () => {
    expect(formatPhone('+447911123456')).toBe('+447 911 123 456');
    expect(formatPhone('+44 7911', '44')).toBe('+44 7911');
    expect(formatPhone('unknown', '44')).toBe('unknown');
    expect(formatPhone('+12345', '1')).toBe('+12345');
  });

  it('never leaves a lone digit at the end', () => {
    for (let n = 6; n <= 15; n += 1) {
      const groups = groupDigits('1'.repeat(n)).split(' ');
      expect(groups.join('')).toHaveLength(n);
      for (const group of groups) expect(group.length).toBeGreaterThanOrEqual(3);
      for (const group of groups) expect(group.length).toBeLessThanOrEqual(4);
    }
  });
});

describe('success rate next to an offer', () => {
  it('says the rate and what it rests on', () => {
    expect(deliveryLabel({ purchases: 25, smsReceived: 23, windowHours: 24 })).toEqual({ text: '92% got the SMS', detail: '23 of 25 numbers, last 24 h' });
    expect(deliveryLabel({ purchases: 1, smsReceived: 0, windowHours: 24 })).toEqual({ text: '0% got the SMS', detail: '0 of 1 number, last 24 h' });
    expect(deliveryLabel({ purchases: 0, smsReceived: 0, windowHours: 24 })).toEqual({ text: 'No sales yet', detail: 'no numbers sold in the last 24 h' });
    // Never above 100 %.
    expect(deliveryLabel({ purchases: 2, smsReceived: 3, windowHours: 24 })?.text).toBe('100% got the SMS');
    expect(deliveryLabel(null)).toBeNull();
    expect(deliveryLabel(undefined)).toBeNull();
  });
});

describe('top up what is missing', () => {
  it('is the required amount minus the balance, up to a whole cent, in exact micros', () => {
    expect(missingMicros('440000', '100000')).toBe(340_000n);
    expect(missingMicros('440001', '0')).toBe(450_000n);
    expect(missingMicros('440000', null)).toBe(440_000n);
    expect(missingMicros('9007199254740993', '1')).toBe(9_007_199_254_750_000n);
    expect(missingMicros('440000', '440000')).toBeNull();
    expect(missingMicros('440000', '-5')).toBe(440_000n);
    expect(missingMicros('abc', '0')).toBeNull();
    expect(missingMicros(null, '0')).toBeNull();
  });

  it('links to the top-up route with the amount, which the hash router reads apart from the path', () => {
    expect(topUpHref(340_000n)).toBe('#/wallet/topup?missing=340000');
    expect(topUpHref(null)).toBe('#/wallet/topup');
    expect(hashQuery('#/wallet/topup?missing=340000').get('missing')).toBe('340000');
    expect(hashQuery('#/wallet').get('missing')).toBeNull();
  });
});

describe('cancel judged by the wall clock', () => {
  const view = (over: Partial<Parameters<typeof actionsAt>[0]> = {}) => ({
    status: 'ACTIVE' as const,
    messages: [],
    cancelAllowedAt: '2026-12-01T12:02:00.000Z',
    actions: { cancel: false, retry: false, finish: false },
    ...over,
  });
  const at = (iso: string) => Date.parse(iso);

  it('offers cancel once the delay is over, although the workflow view was computed before', () => {
    expect(actionsAt(view(), at('2026-12-01T12:01:59.999Z')).cancel).toBe(false);
    expect(actionsAt(view(), at('2026-12-01T12:02:00.000Z')).cancel).toBe(true);
    expect(actionsAt(view(), at('2026-12-01T12:05:00.000Z'))).toEqual({ cancel: true, retry: false, finish: false });
  });

  it('never offers it with an SMS, outside ACTIVE, or without a known delay', () => {
    const late = at('2026-12-01T13:00:00.000Z');
    expect(actionsAt(view({ messages: [{ seq: 1, code: '1', text: '1', receivedAt: '2026-12-01T12:01:00.000Z' }] }), late).cancel).toBe(false);
    for (const status of ['RESERVED', 'COMPLETED', 'CANCELLED', 'EXPIRED', 'FAILED'] as const) expect(actionsAt(view({ status }), late).cancel).toBe(false);
    expect(actionsAt(view({ cancelAllowedAt: null }), late).cancel).toBe(false);
    expect(actionsAt(view({ cancelAllowedAt: 'garbage' }), late).cancel).toBe(false);
  });
});

describe('search relevance', () => {
  const hits = (...kinds: MatchKind[]) => kinds.map((match, i) => ({ code: `s${i}`, match }));

  it('drops look-alikes when something matched for real', () => {
    expect(relevantOnly(hits('fuzzy', 'similar', 'similar')).map((h) => h.match)).toEqual(['fuzzy']);
    expect(relevantOnly(hits('exact', 'prefix', 'similar')).map((h) => h.match)).toEqual(['exact', 'prefix']);
    // Nothing better: the closest names are the suggestion.
    expect(relevantOnly(hits('similar', 'similar'))).toHaveLength(2);
    // A real match in the other list of the same box.
    expect(relevantOnly(hits('similar', 'similar'), true)).toEqual([]);
    expect(hasRealMatch(hits('similar', 'none'))).toBe(false);
    expect(hasRealMatch(hits('similar', 'fuzzy'))).toBe(true);
    expect(relevantOnly(hits('none', 'none'))).toHaveLength(2);
  });
});

describe('npm run sms: where the simulator takes an SMS', () => {
  it('finds the tenant in the provider base URL', () => {
    expect(simulatorSmsUrl('http://127.0.0.1:4010/hero/stubs/handler_api.php', '3400000123')).toBe('http://127.0.0.1:4010/control/hero/activations/3400000123/sms');
    expect(simulatorSmsUrl('http://127.0.0.1:4010/fivesim/v1', '77')).toBe('http://127.0.0.1:4010/control/fivesim/activations/77/sms');
    // A real provider is never sent a control call.
    expect(simulatorSmsUrl('https://hero-sms.com/stubs/handler_api.php', '1')).toBeNull();
    expect(simulatorSmsUrl('https://5sim.net/v1', '1')).toBeNull();
  });

  it('refuses what cannot be one', () => {
    expect(simulatorSmsUrl('not a url', '1')).toBeNull();
    expect(simulatorSmsUrl('http://127.0.0.1:4010/', '1')).toBeNull();
    expect(simulatorSmsUrl('http://127.0.0.1:4010/hero/stubs/handler_api.php', '1/../../x')).toBeNull();
    expect(activationIdPattern('act-3F2A')).toEqual({ exact: 'act-3f2a', prefix: 'act-3f2a' });
    expect(activationIdPattern('3f2a9')).toEqual({ exact: 'act-3f2a9', prefix: 'act-3f2a9' });
    expect(activationIdPattern('x')).toBeNull();
    expect(activationIdPattern("act-1'; drop")).toBeNull();
  });
});
