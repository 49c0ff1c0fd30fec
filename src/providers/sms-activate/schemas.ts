import { z } from 'zod';

/**
 * The JSON shapes of spec 2.6, as loose as real providers are: ids and counts arrive as numbers
 * or strings, `smsCode` as null, a string or a list. Amounts stay strings/numbers here and go
 * through decimalToMicros, never through float arithmetic.
 */
const id = z.union([z.string().regex(/^\d+$/), z.number().int().nonnegative()]).transform(String);
const count = z.union([z.number().int().nonnegative(), z.string().regex(/^\d+$/).transform(Number)]);
const amount = z.union([z.number(), z.string()]);
const phone = z.union([z.string(), z.number()]).transform(String);

export const numberV2Schema = z.object({
  activationId: id,
  phoneNumber: phone,
  activationCost: amount.nullish(),
});

/** `{"<country>": {"<service>": {"cost", "count", "physicalCount"?}}}` */
export const pricesSchema = z.record(z.string(), z.record(z.string(), z.object({ cost: amount, count })));

export const activeActivationsSchema = z.object({
  activeActivations: z.array(
    z.object({
      activationId: id,
      serviceCode: z.string(),
      phoneNumber: phone,
      smsCode: z.union([z.array(z.union([z.string(), z.number()]).transform(String)), z.string(), z.null()]).optional(),
      smsText: z.string().nullish(),
    }),
  ),
});
