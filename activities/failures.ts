import { ApplicationFailure } from '@temporalio/common';
import { failures, FailureType, type FailureCode } from '../workflows/contracts';
import { sqlDataException } from '../src/db/errors';
import { AppError } from '../src/lib/errors';
import { ProviderError, type ProviderErrorKind } from '../src/providers/types';

const providerFailureCode: Record<ProviderErrorKind, FailureCode> = {
  NO_NUMBERS: FailureType.ProviderNoNumbers,
  REJECTED: FailureType.ProviderRejected,
  EARLY_CANCEL: FailureType.ProviderEarlyCancel,
  HAS_SMS: FailureType.ProviderHasSms,
  BAD_STATE: FailureType.ProviderRejected,
  NOT_FOUND: FailureType.ProviderRejected,
  TRANSIENT: FailureType.ProviderTransient,
};

/** The failure code of a provider's final no (no numbers, rejected, …); null for anything else, retryable faults included. */
export function providerRefusal(error: unknown): FailureCode | null {
  if (!(error instanceof ProviderError)) return null;
  const code = providerFailureCode[error.kind];
  return failures[code].retryable ? null : code;
}

/**
 * Turns domain errors into Temporal failures whose `type` is their failure code, retried or not
 * as workflows/contracts.ts says of that code; a value the database refuses is DATA_INVALID.
 * Unknown errors (a database outage, a bug) pass through and are retried by the activity's policy.
 */
export function toFailure(error: unknown): unknown {
  if (error instanceof ProviderError) {
    const code = providerFailureCode[error.kind];
    return ApplicationFailure.create({
      type: code,
      message: `${error.message} (${error.token})`,
      nonRetryable: !failures[code].retryable,
      details: [{ token: error.token, retryAfterMs: error.retryAfterMs ?? null }],
      cause: error,
    });
  }
  if (error instanceof AppError) {
    return ApplicationFailure.create({
      type: error.code,
      message: error.message,
      nonRetryable: !failures[error.code].retryable,
      details: error.details ? [error.details] : undefined,
    });
  }
  const sqlState = sqlDataException(error);
  if (sqlState) {
    // Retrying would fail the same way forever: the workflow ends the activation and settles instead.
    return ApplicationFailure.create({
      type: FailureType.DataInvalid,
      message: `the database refused a value (SQLSTATE ${sqlState})`,
      nonRetryable: true,
      details: [{ sqlState }],
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
