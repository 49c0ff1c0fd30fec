import { z } from 'zod';

/**
 * The JSON shapes of 5sim v1 (spec 1.2–1.5), as loose as the real replies: ids and counts as
 * numbers or strings, `sms` as null or a list, `code` possibly empty, `rate` possibly absent.
 * Amounts stay numbers/strings here and go through decimalToMicros, never float arithmetic.
 */
const id = z.union([z.number().int().nonnegative(), z.string().regex(/^\d+$/)]).transform(String);
const count = z.union([z.number().int().nonnegative(), z.string().regex(/^\d+$/).transform(Number)]);
const amount = z.union([z.number(), z.string()]);
const text = z.union([z.string(), z.number()]).transform(String);

export const FIVESIM_STATUSES = ['PENDING', 'RECEIVED', 'CANCELED', 'TIMEOUT', 'FINISHED', 'BANNED'] as const;
export type FivesimStatus = (typeof FIVESIM_STATUSES)[number];

export const smsSchema = z.object({
  created_at: z.string().nullish(),
  date: z.string().nullish(),
  sender: z.string().nullish(),
  text: z.string().nullish(),
  code: text.nullish(),
});
export type FivesimSms = z.infer<typeof smsSchema>;

export const orderSchema = z.object({
  id,
  phone: text,
  product: z.string().nullish(),
  country: z.string().nullish(),
  price: amount.nullish(),
  status: z.enum(FIVESIM_STATUSES),
  created_at: z.string().nullish(),
  sms: z.array(smsSchema).nullish().transform((sms) => sms ?? []),
});
export type FivesimOrder = z.infer<typeof orderSchema>;

export const profileSchema = z.object({ balance: amount });

export const ordersSchema = z.object({
  Data: z.array(orderSchema).nullish().transform((data) => data ?? []),
  Total: count.nullish(),
});

const operatorPrice = z.object({ cost: amount, count, rate: z.number().nullish() });

/** outer → inner → operator → price; outer/inner are country/product, or product/country for `?product=` alone. */
export const pricesSchema = z.record(z.string(), z.record(z.string(), z.record(z.string(), operatorPrice)));
