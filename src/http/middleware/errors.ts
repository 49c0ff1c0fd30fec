import type { NextFunction, Request, Response } from 'express';
import { ZodError } from 'zod';
import type { FailureCode } from '../../../workflows/contracts';
import { sqlDataException } from '../../db/errors';
import { AppError } from '../../lib/errors';
import type { Logger } from '../../lib/logger';

export interface ErrorBody {
  error: { code: FailureCode; message: string; details?: unknown };
}

/** The HTTP meaning of every failure code (workflows/contracts.ts): the only place it is decided. */
export const httpStatus: Record<FailureCode, number> = {
  VALIDATION_ERROR: 400,
  MALFORMED_JSON: 400,
  PAYLOAD_TOO_LARGE: 413,
  BAD_REQUEST: 400,
  ROUTE_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  INVALID_AMOUNT: 400,
  INVALID_LIMIT: 400,
  INVALID_IDEMPOTENCY_KEY: 400,
  INVALID_ACTOR_ID: 400,
  IDEMPOTENCY_KEY_REUSED: 422,
  DATA_INVALID: 400,
  INTERNAL: 500,
  INVALID_TEXT: 400,

  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  INVALID_CREDENTIALS: 401,
  EMAIL_TAKEN: 409,
  LOGIN_LOCKED: 429,
  RATE_LIMITED: 429,
  REFRESH_INVALID: 401,
  REFRESH_REUSED: 401,
  CSRF_INVALID: 403,
  TOKEN_INVALID: 400,
  TOTP_REQUIRED: 401,
  TOTP_INVALID: 401,
  TOTP_CONFIRMATION_INVALID: 400,
  TOTP_ALREADY_ENABLED: 409,
  TOTP_NOT_ENROLLED: 409,
  TOTP_NOT_ENABLED: 409,
  API_KEY_REQUIRED: 401,
  API_KEY_INVALID: 401,
  API_KEY_NOT_FOUND: 404,
  INSUFFICIENT_SCOPE: 403,
  TOO_MANY_API_KEYS: 409,
  SIGNATURE_INVALID: 401,
  SIGNATURE_EXPIRED: 401,
  NONCE_REUSED: 401,
  WEBHOOK_UNAUTHORIZED: 401,
  WEBHOOK_URL_INVALID: 400,
  WEBHOOK_DISABLED: 409,

  UNKNOWN_SERVICE: 404,
  UNKNOWN_COUNTRY: 404,
  NO_OFFERS: 409,
  MAX_PRICE_TOO_LOW: 409,
  PROVIDERS_UNAVAILABLE: 503,

  USER_NOT_FOUND: 404,
  WALLET_NOT_FOUND: 404,
  INSUFFICIENT_FUNDS: 402,
  HOLD_NOT_FOUND: 404,
  HOLD_ALREADY_SETTLED: 409,
  HOLD_BUSY: 503,
  LEDGER_INCONSISTENT: 500,

  NOT_FOUND: 404,
  NO_NUMBERS: 409,
  PURCHASE_FAILED: 502,
  CANCEL_TOO_EARLY: 409,
  SMS_ALREADY_RECEIVED: 409,
  NO_SMS_YET: 409,
  ALREADY_AWAITING_SMS: 409,
  ACTIVATION_CLOSED: 409,
  ACTIVATION_NOT_READY: 409,
  ACTION_IN_PROGRESS: 409,
  NOTHING_TO_RETRY: 409,
  PROVIDER_ERROR: 502,

  PROVIDER_NO_NUMBERS: 502,
  PROVIDER_REJECTED: 502,
  PROVIDER_EARLY_CANCEL: 502,
  PROVIDER_HAS_SMS: 502,
  PROVIDER_TRANSIENT: 502,

  PROVIDER_NOT_FOUND: 404,
  PROVIDER_EXISTS: 409,
  INCIDENT_NOT_FOUND: 404,

  TOPUP_NOT_FOUND: 404,
  TOPUP_BELOW_MINIMUM: 422,
  TOPUP_ABOVE_MAXIMUM: 422,
  TOPUP_DAILY_LIMIT: 429,
  PROCESSOR_UNAVAILABLE: 400,
  PROCESSOR_REJECTED: 502,
  PROCESSOR_TRANSIENT: 502,
  PAYMENT_CALLBACK_INVALID: 400,
  REFUND_UNSUPPORTED: 409,
  TOPUP_NOT_REFUNDABLE: 409,
  COUPON_NOT_FOUND: 404,
  COUPON_EXPIRED: 409,
  COUPON_EXHAUSTED: 409,
  COUPON_LIMIT_REACHED: 409,
  COUPON_MIN_AMOUNT: 422,
  COUPON_EXISTS: 409,
};

const answer = (code: FailureCode, message: string, details?: unknown) => ({
  status: httpStatus[code],
  body: { error: { code, message, ...(details ? { details } : {}) } },
});

/** The one mapping from any thrown value to an HTTP answer; internals are logged, never sent. */
export function toHttpError(error: unknown): { status: number; body: ErrorBody } {
  if (error instanceof AppError) return answer(error.code, error.message, error.details);
  if (error instanceof ZodError) {
    const issues = error.issues.map((issue) => ({ path: issue.path.slice(1).join('.'), message: issue.message }));
    return answer('VALIDATION_ERROR', issues.map((i) => `${i.path || 'request'}: ${i.message}`).join('; '), { issues });
  }
  const typed = error as { type?: string; status?: number };
  if (typed?.type === 'entity.parse.failed') return answer('MALFORMED_JSON', 'The request body is not valid JSON.');
  if (typed?.type === 'entity.too.large') return answer('PAYLOAD_TOO_LARGE', 'The request body is too large.');
  // Input that slipped past validation and that PostgreSQL refused: the client's data, not our fault.
  if (sqlDataException(error)) return answer('DATA_INVALID', 'A value in the request is not acceptable (invalid text or a number out of range).');
  if (typed?.status && typed.status >= 400 && typed.status < 500) {
    // Body-parser's other refusals (unsupported charset, …): the client's fault, whatever status it chose.
    return { status: typed.status, body: { error: { code: 'BAD_REQUEST', message: 'The request could not be processed.' } } };
  }
  return answer('INTERNAL', 'Something went wrong on our side; nothing was charged twice. Please retry.');
}

export function errorHandler(logger: Logger) {
  return (error: unknown, req: Request, res: Response, _next: NextFunction) => {
    const { status, body } = toHttpError(error);
    // The path only: query strings carry secrets (`?secret=` on provider webhooks, `?access_token=` on the SSE stream).
    if (status >= 500) logger.error({ err: error, method: req.method, path: req.originalUrl.split('?')[0], requestId: req.id }, 'request failed');
    if (res.headersSent) return;
    res.status(status).json(body);
  };
}

export function notFoundHandler(_req: Request, res: Response) {
  res.status(404).json(answer('ROUTE_NOT_FOUND', 'No such endpoint.').body);
}
