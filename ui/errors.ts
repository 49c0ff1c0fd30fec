/**
 * API errors and the one sentence a person sees for each. No DOM here: the unit tests
 * (test/unit/web-*.test.ts) load it in Node.
 */

export class ApiError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    /** Seconds from Retry-After (rate limits, lockouts), when the server sent one. */
    readonly retryAfterSeconds: number | null = null,
    /** The error's `details` (e.g. `requiredMicros` of INSUFFICIENT_FUNDS), when the server sent some. */
    readonly details: Readonly<Record<string, unknown>> | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** True when the request may or may not have reached the server: retry with the SAME idempotency key. */
export const isOutcomeUnknown = (error: unknown) =>
  error instanceof ApiError && (error.code === 'NETWORK' || error.status >= 500);

/** The session is gone for good (refresh refused too): the app goes back to sign-in. */
export const isSessionEnded = (error: unknown) => error instanceof ApiError && error.status === 401 && SESSION_CODES.has(error.code);

const SESSION_CODES = new Set(['UNAUTHORIZED', 'REFRESH_INVALID', 'REFRESH_REUSED']);

export const MESSAGES: Record<string, string> = {
  INSUFFICIENT_FUNDS: 'Your balance is too low for this number. Add funds to your wallet and try again.',
  TOKEN_INVALID: 'This link is no longer valid: it was used already or has expired. Ask for a new one.',
  INVALID_CREDENTIALS: 'That email and password do not match. Check them and try again.',
  EMAIL_TAKEN: 'An account with this email already exists. Sign in instead.',
  UNAUTHORIZED: 'Your session has ended. Please sign in again.',
  REFRESH_INVALID: 'Your session has ended. Please sign in again.',
  REFRESH_REUSED: 'For your safety this session was signed out everywhere. Please sign in again.',
  CSRF_INVALID: 'Your session could not be renewed. Please sign in again.',
  LOGIN_LOCKED: 'Too many failed sign-ins. Wait a few minutes and try again.',
  TOTP_REQUIRED: 'Enter the 6-digit code from your authenticator app.',
  TOTP_INVALID: 'That code is wrong or was already used. Try the next one.',
  TOTP_CONFIRMATION_INVALID: 'That code is not valid; check the device clock and try the next code.',
  FORBIDDEN: 'You are not allowed to do that.',
  ADMIN_REQUIRED: 'Admin access required. Sign in with an admin account.',
  NOT_FOUND: 'We could not find that. It may have been removed.',
  UNKNOWN_SERVICE: 'We do not sell numbers for that service.',
  UNKNOWN_COUNTRY: 'We do not sell numbers in that country.',
  NO_NUMBERS: 'No numbers are available for this service and country right now. Try another country.',
  PRICE_CHANGED: 'The price went up since the list was loaded. Check the new price and buy again.',
  EARLY_CANCEL: 'It is too early to cancel this number. Wait until the countdown ends and try again.',
  SMS_ALREADY_RECEIVED: 'An SMS already arrived for this number, so it can no longer be cancelled. Finish it instead.',
  NO_SMS_YET: 'No SMS has arrived yet. Wait for the first one before asking for another or finishing.',
  ALREADY_AWAITING_SMS: 'We are already waiting for another SMS on this number.',
  BAD_STATE: 'That action is no longer possible for this number.',
  NOT_READY: 'The number is still being bought. Try again in a moment.',
  ACTION_IN_PROGRESS: 'Another action on this number is still running. Try again in a moment.',
  RATE_LIMITED: 'Too many requests. Wait a few seconds and try again.',
  IDEMPOTENCY_CONFLICT: 'This request was already sent with different details. Please try again.',
  PROVIDER_UNAVAILABLE: 'Our number providers are not responding. Try again in a minute.',
  TOO_MANY_API_KEYS: 'You have the maximum number of API keys. Revoke one first.',
  API_KEY_NOT_FOUND: 'That API key no longer exists.',
  NETWORK: 'Cannot reach SimGate. Check your connection and try again.',
  INTERNAL: 'Something went wrong on our side. Try again in a moment.',
};

/** Codes the server may spell differently, folded onto the messages above. */
const ALIASES: Record<string, string> = {
  EMAIL_EXISTS: 'EMAIL_TAKEN',
  EMAIL_IN_USE: 'EMAIL_TAKEN',
  USER_EXISTS: 'EMAIL_TAKEN',
  UNAUTHENTICATED: 'UNAUTHORIZED',
  INVALID_TOKEN: 'UNAUTHORIZED',
  TOKEN_EXPIRED: 'UNAUTHORIZED',
  NO_STOCK: 'NO_NUMBERS',
  OUT_OF_STOCK: 'NO_NUMBERS',
  NO_OFFERS: 'NO_NUMBERS',
  NO_PROVIDER: 'NO_NUMBERS',
  PROVIDER_NO_NUMBERS: 'NO_NUMBERS',
  WRONG_MAX_PRICE: 'PRICE_CHANGED',
  PRICE_ABOVE_MAX: 'PRICE_CHANGED',
  PRICE_TOO_HIGH: 'PRICE_CHANGED',
  MAX_PRICE_TOO_LOW: 'PRICE_CHANGED',
  EARLY_CANCEL_DENIED: 'EARLY_CANCEL',
  CANCEL_TOO_EARLY: 'EARLY_CANCEL',
  PROVIDER_EARLY_CANCEL: 'EARLY_CANCEL',
  INVALID_STATE: 'BAD_STATE',
  ACTION_NOT_ALLOWED: 'BAD_STATE',
  ACTIVATION_CLOSED: 'BAD_STATE',
  ACTIVATION_NOT_READY: 'NOT_READY',
  TOO_MANY_REQUESTS: 'RATE_LIMITED',
  UPSTREAM_UNAVAILABLE: 'PROVIDER_UNAVAILABLE',
  SERVICE_UNAVAILABLE: 'PROVIDER_UNAVAILABLE',
  PROVIDER_ERROR: 'PROVIDER_UNAVAILABLE',
  INTERNAL_ERROR: 'INTERNAL',
};

const VALIDATION_CODES = new Set(['VALIDATION_ERROR', 'VALIDATION_FAILED', 'BAD_REQUEST', 'INVALID_INPUT']);

/** Any thrown value → one sentence a customer can act on. */
export function describeError(error: unknown): string {
  if (!(error instanceof ApiError)) {
    return error instanceof Error && error.message ? error.message : 'Something went wrong. Please try again.';
  }
  const code = ALIASES[error.code] ?? error.code;
  if (code === 'RATE_LIMITED' || code === 'LOGIN_LOCKED') {
    const wait = error.retryAfterSeconds;
    if (wait != null && wait > 0) {
      const span = wait < 120 ? `${wait} seconds` : `${Math.ceil(wait / 60)} minutes`;
      return code === 'LOGIN_LOCKED'
        ? `Too many failed sign-ins. Try again in ${span}.`
        : `Too many requests. Try again in ${span}.`;
    }
  }
  if (MESSAGES[code]) return MESSAGES[code];
  if (VALIDATION_CODES.has(code)) {
    return error.message ? `Please check what you entered: ${error.message}` : 'Please check what you entered.';
  }
  // Unknown code: the server's message is written to be safe to show.
  if (error.message && !error.code.startsWith('HTTP_')) return error.message;
  if (error.status === 401) return MESSAGES.UNAUTHORIZED;
  if (error.status === 403) return MESSAGES.FORBIDDEN;
  if (error.status === 404) return MESSAGES.NOT_FOUND;
  if (error.status === 429) return MESSAGES.RATE_LIMITED;
  if (error.status >= 500) return MESSAGES.INTERNAL;
  return `Something went wrong (${error.code}). Please try again.`;
}

/**
 * When an access token (a JWT) expires, in ms since the epoch, read from its payload without
 * checking the signature (the server does that); null when it cannot be read.
 */
export function tokenExpiresAt(token: string | null): number | null {
  if (!token) return null;
  const payload = token.split('.')[1];
  if (!payload) return null;
  try {
    const base64 = payload.replace(/-/g, '+').replace(/_/g, '/');
    const json = JSON.parse(atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4))) as { exp?: unknown };
    return typeof json.exp === 'number' ? json.exp * 1000 : null;
  } catch {
    return null;
  }
}
