import { ProviderError, type ProviderErrorKind } from '../types';

/**
 * Every documented handler_api refusal (spec 2.5) and what SimGate does about it. A token not
 * listed here is treated as TRANSIENT with the token kept: an unknown answer is more likely a
 * new server-side fault than a permanent "no".
 */
const KIND_BY_TOKEN: Record<string, ProviderErrorKind> = {
  NO_NUMBERS: 'NO_NUMBERS',

  NO_KEY: 'REJECTED',
  BAD_KEY: 'REJECTED',
  BAD_ACTION: 'REJECTED',
  BAD_SERVICE: 'REJECTED',
  WRONG_SERVICE: 'REJECTED',
  BAD_COUNTRY: 'REJECTED',
  NO_BALANCE: 'REJECTED',
  NO_BALANCE_FORWARD: 'REJECTED',
  WRONG_MAX_PRICE: 'REJECTED',
  BANNED: 'REJECTED',
  CHANNELS_LIMIT: 'REJECTED',
  WRONG_OPERATOR: 'REJECTED',
  BAD_OPERATOR: 'REJECTED',
  OPERATORS_NOT_FOUND: 'REJECTED',
  WRONG_EXCEPTION_PHONE: 'REJECTED',
  SERVICE_UNAVAILABLE_REGION: 'REJECTED',
  ORDER_ALREADY_EXISTS: 'REJECTED',

  EARLY_CANCEL_DENIED: 'EARLY_CANCEL',
  BAD_STATUS: 'BAD_STATE',
  NO_ACTIVATION: 'NOT_FOUND',
  WRONG_ACTIVATION_ID: 'NOT_FOUND',

  ERROR_SQL: 'TRANSIENT',
};

export interface TokenReply {
  /** `WRONG_MAX_PRICE` of `WRONG_MAX_PRICE:0.35`. */
  name: string;
  /** What followed the first colon (`0.35`), or null. */
  value: string | null;
  /** HeroSMS's `info` object, when the refusal came as JSON. */
  info?: Record<string, unknown>;
}

export function isKnownToken(name: string): boolean {
  return Object.hasOwn(KIND_BY_TOKEN, name);
}

/** The typed error for a refusal token; `context` names the provider and action for the message. */
export function errorForToken(token: TokenReply, context: string): ProviderError {
  const kind = isKnownToken(token.name) ? KIND_BY_TOKEN[token.name] : 'TRANSIENT';
  const shown = token.value === null ? token.name : `${token.name}:${token.value}`;
  const message = isKnownToken(token.name) ? `${context}: ${shown}` : `${context}: unexpected reply ${shown}`;
  return new ProviderError(kind, token.name, message, kind === 'EARLY_CANCEL' ? minActivationMs(token.info) : undefined);
}

/**
 * HeroSMS says how old an activation must be (`info.minActivationTime`, seconds), not how long
 * is left: the full window is an upper bound on the wait, which is what a retry timer needs.
 */
function minActivationMs(info: Record<string, unknown> | undefined): number | undefined {
  const seconds = Number(info?.minActivationTime);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : undefined;
}
