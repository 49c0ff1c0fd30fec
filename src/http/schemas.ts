import { z } from 'zod';

/** Shared request pieces. Money travels as a decimal string of micro-dollars. */
const MICROS_MESSAGE = 'must be a whole number of micro-dollars (e.g. "1500000" for $1.50)';
// The checks sit on each input branch (not after a transform) so the OpenAPI document shows them.
export const micros = z
  .union([z.string().regex(/^\d{1,15}$/, MICROS_MESSAGE), z.number().int(MICROS_MESSAGE).min(0, MICROS_MESSAGE).max(999_999_999_999_999, MICROS_MESSAGE)])
  .transform((value) => BigInt(value));

export const positiveMicros = micros.refine((value) => value > 0n, 'must be greater than zero');

export const serviceCode = z.string().trim().min(1).max(40).regex(/^[a-z0-9:_-]+$/i, 'unknown service code format').transform((s) => s.toLowerCase());
export const countryIso = z.string().trim().regex(/^[A-Za-z]{2}$/, 'must be a two-letter ISO country code').transform((s) => s.toUpperCase());

/** Parsed from a header, not the body: the messages name the header, since the issue has no path. */
export const idempotencyKey = z
  .string({ error: 'the Idempotency-Key header is required' })
  .trim()
  .min(8, 'the Idempotency-Key header must be at least 8 characters')
  .max(200, 'the Idempotency-Key header must be at most 200 characters');

export const activationIdParams = z.object({ id: z.string().regex(/^act-[a-f0-9-]{20,40}$/, 'not an activation id') });

/**
 * A value for a PostgreSQL bigint column from a query string or path (cursors, ids): beyond
 * −2^63..2^63−1 the database refuses the parameter, so the edge refuses it first.
 */
export const pgBigint = z.coerce
  .bigint()
  .min(-(2n ** 63n), 'must be at least -9223372036854775808 (a bigint)')
  .max(2n ** 63n - 1n, 'must be at most 9223372036854775807 (a bigint)');
