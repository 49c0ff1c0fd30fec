import { ApiError, describeError, isOutcomeUnknown, isSessionEnded, tokenExpiresAt } from '../../ui/errors';

/** Every API error becomes one sentence a customer can act on (ui/errors.ts). */
describe('web error mapping', () => {
  it.each([
    ['INSUFFICIENT_FUNDS', 402, /balance is too low/],
    ['NO_OFFERS', 409, /No numbers are available/],
    ['MAX_PRICE_TOO_LOW', 409, /price went up/],
    ['CANCEL_TOO_EARLY', 409, /too early to cancel/],
    ['SMS_ALREADY_RECEIVED', 409, /can no longer be cancelled/],
    ['NO_SMS_YET', 409, /No SMS has arrived yet/],
    ['ACTIVATION_CLOSED', 409, /no longer possible/],
    ['PROVIDER_ERROR', 502, /providers are not responding/],
    ['REFRESH_REUSED', 401, /signed out everywhere/],
    ['EMAIL_TAKEN', 409, /already exists/],
    ['TOO_MANY_API_KEYS', 409, /Revoke one first/],
    ['NETWORK', 0, /Cannot reach SimGate/],
  ])('%s → a sentence', (code, status, expected) => {
    expect(describeError(new ApiError(code, status, 'server text'))).toMatch(expected);
  });

  it('shows validation details, and the safe server message for unknown codes', () => {
    expect(describeError(new ApiError('VALIDATION_ERROR', 400, 'body.password: must be at least 8 characters'))).toBe(
      'Please check what you entered: body.password: must be at least 8 characters',
    );
    expect(describeError(new ApiError('SOMETHING_NEW', 409, 'A new rule said no.'))).toBe('A new rule said no.');
  });

  it('falls back on the HTTP status when the body had no code', () => {
    expect(describeError(new ApiError('HTTP_503', 503, 'Service Unavailable'))).toMatch(/on our side/);
    expect(describeError(new ApiError('HTTP_404', 404, 'Not Found'))).toMatch(/could not find/);
    expect(describeError(new ApiError('HTTP_418', 418, ''))).toBe('Something went wrong (HTTP_418). Please try again.');
    expect(describeError(new Error('boom'))).toBe('boom');
    expect(describeError('weird')).toBe('Something went wrong. Please try again.');
  });

  it('words Retry-After for rate limits and lockouts', () => {
    expect(describeError(new ApiError('RATE_LIMITED', 429, '', 12))).toBe('Too many requests. Try again in 12 seconds.');
    expect(describeError(new ApiError('LOGIN_LOCKED', 429, '', 600))).toBe('Too many failed sign-ins. Try again in 10 minutes.');
    expect(describeError(new ApiError('LOGIN_LOCKED', 429, ''))).toMatch(/Wait a few minutes/);
  });

  it('knows which failures leave the outcome unknown (retry with the same key) and which end the session', () => {
    expect(isOutcomeUnknown(new ApiError('NETWORK', 0, ''))).toBe(true);
    expect(isOutcomeUnknown(new ApiError('INTERNAL', 500, ''))).toBe(true);
    expect(isOutcomeUnknown(new ApiError('INSUFFICIENT_FUNDS', 402, ''))).toBe(false);
    expect(isSessionEnded(new ApiError('UNAUTHORIZED', 401, ''))).toBe(true);
    expect(isSessionEnded(new ApiError('REFRESH_REUSED', 401, ''))).toBe(true);
    expect(isSessionEnded(new ApiError('INVALID_CREDENTIALS', 401, ''))).toBe(false);
    expect(isSessionEnded(new ApiError('NETWORK', 0, ''))).toBe(false);
  });

  it('reads a JWT expiry without trusting it', () => {
    const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    expect(tokenExpiresAt(`${part({ alg: 'HS256' })}.${part({ exp: 1_800_000_000 })}.sig`)).toBe(1_800_000_000_000);
    expect(tokenExpiresAt(`${part({ alg: 'HS256' })}.${part({ sub: 'x' })}.sig`)).toBeNull();
    expect(tokenExpiresAt('not-a-jwt')).toBeNull();
    expect(tokenExpiresAt('a.%%%.c')).toBeNull();
    expect(tokenExpiresAt(null)).toBeNull();
  });
});
