import { errorForToken } from '../../src/providers/sms-activate/errors';
import { parseReply } from '../../src/providers/sms-activate/reply';
import { ProviderError } from '../../src/providers/types';

const parse = (status: number, body: string) => parseReply(status, body, 'p getX');

function transient(status: number, body: string): ProviderError {
  try {
    parseReply(status, body, 'p getX');
  } catch (error) {
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).kind).toBe('TRANSIENT');
    return error as ProviderError;
  }
  throw new Error('expected a TRANSIENT ProviderError');
}

describe('parseReply', () => {
  it('splits bare tokens at the first colon, ignoring surrounding whitespace', () => {
    expect(parse(200, 'NO_NUMBERS')).toEqual({ type: 'token', name: 'NO_NUMBERS', value: null });
    expect(parse(200, 'ACCESS_NUMBER:3412345678:6281234567890\n')).toEqual({ type: 'token', name: 'ACCESS_NUMBER', value: '3412345678:6281234567890' });
    expect(parse(200, 'STATUS_OK:Code is 12:34')).toMatchObject({ name: 'STATUS_OK', value: 'Code is 12:34' });
    expect(parse(200, 'BANNED:2026-1-5 10-00-00')).toMatchObject({ name: 'BANNED', value: '2026-1-5 10-00-00' });
  });

  it('parses JSON that is not a bare token', () => {
    expect(parse(200, '{"6":{"tg":{"cost":0.35,"count":10}}}')).toEqual({ type: 'json', value: { 6: { tg: { cost: 0.35, count: 10 } } } });
    expect(parse(200, '{"status":"success","activeActivations":[]}')).toMatchObject({ type: 'json' });
  });

  it('reads HeroSMS JSON errors as tokens, whatever the 4xx status', () => {
    expect(parse(404, '{"status":"error","message":"NO_ACTIVATION","errorMsg":"Activation not found"}')).toEqual({ type: 'token', name: 'NO_ACTIVATION', value: null, info: undefined });
    expect(parse(400, '{"status":"error","message":"WRONG_MAX_PRICE","info":{"minPrice":0.35}}')).toMatchObject({ name: 'WRONG_MAX_PRICE', info: { minPrice: 0.35 } });
    expect(parse(409, '{"title":"EARLY_CANCEL_DENIED","details":"wait","info":{"minActivationTime":120}}')).toEqual({
      type: 'token',
      name: 'EARLY_CANCEL_DENIED',
      value: null,
      info: { minActivationTime: 120 },
    });
    // Classic token with a 4xx (privatesms.vip style).
    expect(parse(401, 'BAD_KEY')).toMatchObject({ name: 'BAD_KEY' });
    // An error without a token keeps its words and will map to TRANSIENT.
    expect(parse(400, '{"status":"error","message":"Something broke"}')).toMatchObject({ name: 'ERROR', value: 'Something broke' });
  });

  it('treats 429 and 5xx as TRANSIENT, keeping a token the body carried', () => {
    expect(transient(500, 'Internal Server Error').token).toBe('HTTP 500');
    expect(transient(503, '<html>down</html>').token).toBe('HTTP 503');
    expect(transient(429, 'slow down').token).toBe('HTTP 429');
    expect(transient(500, '{"status":"error","message":"ERROR_SQL"}').token).toBe('ERROR_SQL');
    expect(transient(502, 'NO_NUMBERS').token).toBe('NO_NUMBERS');
  });

  it('treats garbage and unexplained 4xx JSON as TRANSIENT', () => {
    expect(transient(200, '<html>maintenance</html>').token).toBe('UNPARSEABLE');
    expect(transient(200, '').token).toBe('UNPARSEABLE');
    expect(transient(200, 'Not Found').token).toBe('UNPARSEABLE');
    expect(transient(404, '{"detail":"nope"}').token).toBe('HTTP 404');
  });
});

describe('errorForToken', () => {
  const kindOf = (name: string, value: string | null = null) => errorForToken({ name, value }, 'p getX').kind;

  it.each([
    ['NO_NUMBERS', 'NO_NUMBERS'],
    ...[
      'BAD_KEY', 'NO_KEY', 'BAD_SERVICE', 'WRONG_SERVICE', 'BAD_COUNTRY', 'NO_BALANCE', 'WRONG_MAX_PRICE', 'BANNED', 'CHANNELS_LIMIT',
      'BAD_ACTION', 'WRONG_OPERATOR', 'BAD_OPERATOR', 'OPERATORS_NOT_FOUND', 'WRONG_EXCEPTION_PHONE', 'SERVICE_UNAVAILABLE_REGION',
      'NO_BALANCE_FORWARD', 'ORDER_ALREADY_EXISTS',
    ].map((token) => [token, 'REJECTED']),
    ['EARLY_CANCEL_DENIED', 'EARLY_CANCEL'],
    ['BAD_STATUS', 'BAD_STATE'],
    ['NO_ACTIVATION', 'NOT_FOUND'],
    ['WRONG_ACTIVATION_ID', 'NOT_FOUND'],
    ['ERROR_SQL', 'TRANSIENT'],
    ['SOMETHING_NEW', 'TRANSIENT'],
    ['ACCESS_READY', 'TRANSIENT'],
  ])('%s → %s', (token, kind) => {
    expect(kindOf(token)).toBe(kind);
  });

  it('keeps the token and its argument', () => {
    const error = errorForToken({ name: 'WRONG_MAX_PRICE', value: '0.35' }, 'hero getNumberV2');
    expect(error).toBeInstanceOf(ProviderError);
    expect(error.token).toBe('WRONG_MAX_PRICE');
    expect(error.message).toBe('hero getNumberV2: WRONG_MAX_PRICE:0.35');
    expect(error.retryable).toBe(false);
    const unknown = errorForToken({ name: 'SOMETHING_NEW', value: null }, 'x');
    expect([unknown.token, unknown.retryable]).toEqual(['SOMETHING_NEW', true]);
  });

  it('derives retryAfterMs from HeroSMS minActivationTime when given', () => {
    expect(errorForToken({ name: 'EARLY_CANCEL_DENIED', value: null, info: { minActivationTime: 120 } }, 'x').retryAfterMs).toBe(120_000);
    expect(errorForToken({ name: 'EARLY_CANCEL_DENIED', value: null }, 'x').retryAfterMs).toBeUndefined();
    expect(errorForToken({ name: 'EARLY_CANCEL_DENIED', value: null, info: { minActivationTime: 'soon' } }, 'x').retryAfterMs).toBeUndefined();
  });
});
