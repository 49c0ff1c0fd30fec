import { ProviderError, type ProviderErrorKind } from '../types';

/**
 * Every documented 5sim refusal phrase (spec 1.6) and what SimGate does about it. 5sim answers
 * refusals as lower-case plain text, with HTTP 400 mostly, 404 sometimes, and 200 for
 * `no free phones`: the phrase decides, not the status. A phrase not listed here is TRANSIENT.
 */
const KIND_BY_PHRASE: Record<string, ProviderErrorKind> = {
  'no free phones': 'NO_NUMBERS',

  'not enough user balance': 'REJECTED',
  'not enough rating': 'REJECTED',
  'select country': 'REJECTED',
  'select operator': 'REJECTED',
  'bad country': 'REJECTED',
  'bad operator': 'REJECTED',
  'no product': 'REJECTED',
  'country is incorrect': 'REJECTED',
  'product is incorrect': 'REJECTED',
  'reuse not possible': 'REJECTED',
  'reuse false': 'REJECTED',
  'reuse expired': 'REJECTED',
  unauthorized: 'REJECTED',
  'token expired': 'REJECTED',
  'token invalid': 'REJECTED',

  'order has sms': 'HAS_SMS',
  'you need to wait time': 'EARLY_CANCEL',
  'order not found': 'NOT_FOUND',
  'record not found': 'NOT_FOUND',
  'order expired': 'BAD_STATE',
  'order no sms': 'BAD_STATE',
  'hosting order': 'BAD_STATE',

  'server offline': 'TRANSIENT',
  'internal error': 'TRANSIENT',
  'api limit is 100 requests per second': 'TRANSIENT',
  'ip address limit is 100 requests per second': 'TRANSIENT',
};

export function isKnownPhrase(phrase: string): boolean {
  return Object.hasOwn(KIND_BY_PHRASE, phrase);
}

/** The typed error for a refusal phrase (already trimmed and lower-cased); `context` names the provider and call. */
export function errorForPhrase(phrase: string, context: string): ProviderError {
  if (!isKnownPhrase(phrase)) return new ProviderError('TRANSIENT', 'UNEXPECTED_REPLY', `${context}: unexpected reply ${excerpt(phrase)}`);
  return new ProviderError(KIND_BY_PHRASE[phrase], phrase, `${context}: ${phrase}`);
}

export function excerpt(text: string): string {
  return text.length > 120 ? `${text.slice(0, 120)}…` : text;
}
