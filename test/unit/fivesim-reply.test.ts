import { errorForPhrase } from '../../src/providers/fivesim/errors';
import { parseReply } from '../../src/providers/fivesim/reply';
import { codeOf } from '../../src/providers/fivesim/sms';
import { ProviderError } from '../../src/providers/types';

const parse = (status: number, body: string) => parseReply(status, body, 'p call');

function thrown(status: number, body: string): ProviderError {
  try {
    parse(status, body);
  } catch (error) {
    expect(error).toBeInstanceOf(ProviderError);
    return error as ProviderError;
  }
  throw new Error('expected a ProviderError');
}

describe('parseReply', () => {
  it('returns the JSON value of a 2xx, including the literal null', () => {
    expect(parse(200, '{"id":1,"status":"PENDING"}')).toEqual({ id: 1, status: 'PENDING' });
    expect(parse(200, 'null')).toBeNull();
    expect(parse(200, ' [] \n')).toEqual([]);
  });

  it('reads refusal phrases whatever the status, case and surrounding whitespace', () => {
    expect([thrown(200, 'no free phones').kind, thrown(200, 'no free phones').token]).toEqual(['NO_NUMBERS', 'no free phones']);
    expect(thrown(400, 'Order has SMS\n').token).toBe('order has sms');
    expect(thrown(404, 'order not found').kind).toBe('NOT_FOUND');
    // Some clients wrap it in JSON quotes.
    expect(thrown(200, '"no free phones"').kind).toBe('NO_NUMBERS');
  });

  it('401 is REJECTED, empty body or not', () => {
    expect([thrown(401, '').kind, thrown(401, '').token]).toEqual(['REJECTED', 'unauthorized']);
    expect(thrown(401, 'token expired').token).toBe('token expired');
    expect(thrown(401, '<html>nope</html>').token).toBe('unauthorized');
  });

  it('429 and 5xx are TRANSIENT, keeping a known phrase as the token', () => {
    expect([thrown(429, 'api limit is 100 requests per second').kind, thrown(429, 'api limit is 100 requests per second').token]).toEqual([
      'TRANSIENT',
      'api limit is 100 requests per second',
    ]);
    expect(thrown(503, '<html>down</html>').token).toBe('HTTP 503');
    // Even a JSON body or a refusal phrase: a 5xx is a fault.
    expect(thrown(500, '{"id":1}').kind).toBe('TRANSIENT');
    expect(thrown(502, 'order has sms').kind).toBe('TRANSIENT');
  });

  it('garbage is TRANSIENT UNPARSEABLE; JSON with an error status is TRANSIENT', () => {
    expect(thrown(200, '').token).toBe('UNPARSEABLE');
    expect(thrown(200, '<html>maintenance</html>').token).toBe('UNPARSEABLE');
    expect(thrown(404, '404 page not found').token).toBe('UNPARSEABLE');
    expect(thrown(200, '"something else"').token).toBe('UNPARSEABLE');
    expect(thrown(400, '{"error":"x"}').token).toBe('HTTP 400');
  });

  it('never echoes a huge body whole', () => {
    expect(thrown(200, 'x'.repeat(10_000)).message.length).toBeLessThan(300);
  });
});

describe('errorForPhrase', () => {
  it('maps unknown phrases to TRANSIENT', () => {
    expect(errorForPhrase('new phrase', 'p')).toMatchObject({ kind: 'TRANSIENT', token: 'UNEXPECTED_REPLY' });
    expect(errorForPhrase('hosting order', 'p')).toMatchObject({ kind: 'BAD_STATE', token: 'hosting order' });
  });
});

describe('codeOf', () => {
  it('prefers the parsed code', () => {
    expect(codeOf({ code: '51234', text: 'code 99999' })).toBe('51234');
    expect(codeOf({ code: ' 51234 ', text: null })).toBe('51234');
  });

  it('falls back to the text when `code` is empty or missing', () => {
    expect(codeOf({ code: '', text: 'Telegram code 51234' })).toBe('51234');
    expect(codeOf({ code: null, text: 'Your WhatsApp code: 123-456' })).toBe('123456');
    expect(codeOf({ text: 'G-482913 is your Google verification code.' })).toBe('482913');
    expect(codeOf({ code: '', text: 'Code 12. Valid 5 min' })).toBe('12');
    expect(codeOf({ code: '', text: 'no digits here' })).toBe('');
    expect(codeOf({})).toBe('');
  });

  it('does not glue a split code out of a longer number', () => {
    expect(codeOf({ code: '', text: 'Call 4479 4600 01 or use 5123' })).toBe('4479');
  });
});
