import { ProviderError, type ProviderErrorKind } from '../../src/providers/types';

/** The error `promise` rejects with, checked to be a `type`: the test fails if it resolves or rejects with anything else. */
export async function rejectionOf<E>(promise: Promise<unknown>, type: abstract new (...args: never[]) => E): Promise<E> {
  const error = await promise.then(
    (value) => {
      throw new Error(`expected a ${type.name}, got ${JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}`);
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(type);
  return error as E;
}

export const providerFailure = (promise: Promise<unknown>) => rejectionOf(promise, ProviderError);

/** The ProviderError `promise` rejects with, checked to be of `kind` (and to carry `token`, when given). */
export async function expectKind(promise: Promise<unknown>, kind: ProviderErrorKind, token?: string): Promise<ProviderError> {
  const error = await providerFailure(promise);
  expect({ kind: error.kind, ...(token ? { token: error.token } : {}) }).toEqual({ kind, ...(token ? { token } : {}) });
  return error;
}
