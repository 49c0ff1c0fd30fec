import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../workflows/contracts';
import { AppError } from '../src/lib/errors';
import { ProviderError, type ProviderErrorKind } from '../src/providers/types';

const providerFailureType: Record<ProviderErrorKind, string> = {
  NO_NUMBERS: FailureType.ProviderNoNumbers,
  REJECTED: FailureType.ProviderRejected,
  EARLY_CANCEL: FailureType.ProviderEarlyCancel,
  HAS_SMS: FailureType.ProviderHasSms,
  BAD_STATE: FailureType.ProviderRejected,
  NOT_FOUND: FailureType.ProviderRejected,
  TRANSIENT: FailureType.ProviderTransient,
};

/**
 * Turns domain errors into Temporal failures with stable type names: refusals are
 * non-retryable (retrying cannot change the answer), everything else is retried by the
 * activity's retry policy. Unknown errors pass through and are retried.
 */
export function toFailure(error: unknown): unknown {
  if (error instanceof ProviderError) {
    return ApplicationFailure.create({
      type: providerFailureType[error.kind],
      message: `${error.message} (${error.token})`,
      nonRetryable: !error.retryable,
      details: [{ token: error.token, retryAfterMs: error.retryAfterMs ?? null }],
      cause: error,
    });
  }
  if (error instanceof AppError) {
    return ApplicationFailure.create({
      type: error.code,
      message: error.message,
      nonRetryable: error.status < 500,
      details: error.details ? [error.details] : undefined,
    });
  }
  return error;
}

/** Wraps every function of an activity object so its failures are typed (see toFailure). */
export function withTypedFailures<T extends Record<string, (...args: never[]) => Promise<unknown>>>(activities: T): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(activities)) {
    wrapped[name] = async (...args: never[]) => {
      try {
        return await fn(...args);
      } catch (error) {
        throw toFailure(error);
      }
    };
  }
  return wrapped as T;
}
