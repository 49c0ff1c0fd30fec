import { z } from 'zod';

/** Shared request pieces. Money travels as a decimal string of micro-dollars. */
export const micros = z
  .union([z.string(), z.number().int()])
  .transform(String)
  .pipe(z.string().regex(/^\d{1,15}$/, 'must be a whole number of micro-dollars (e.g. "1500000" for $1.50)'))
  .transform((value) => BigInt(value));

export const positiveMicros = micros.refine((value) => value > 0n, 'must be greater than zero');

export const serviceCode = z.string().trim().min(1).max(40).regex(/^[a-z0-9:_-]+$/i, 'unknown service code format').transform((s) => s.toLowerCase());
export const countryIso = z.string().trim().regex(/^[A-Za-z]{2}$/, 'must be a two-letter ISO country code').transform((s) => s.toUpperCase());

export const idempotencyKey = z.string().trim().min(8, 'must be at least 8 characters').max(200);

export const activationIdParams = z.object({ id: z.string().regex(/^act-[a-f0-9-]{20,40}$/, 'not an activation id') });
