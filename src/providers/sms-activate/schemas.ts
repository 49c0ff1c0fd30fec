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

const activeActivation = z.object({
  activationId: id,
  serviceCode: z.string(),
  phoneNumber: phone,
  smsCode: z.union([z.array(z.union([z.string(), z.number()]).transform(String)), z.string(), z.null()]).optional(),
  smsText: z.string().nullish(),
  activationCost: amount.nullish(),
  countryCode: z.union([z.string(), z.number()]).transform(String).nullish(),
  activationTime: z.string().nullish(),
});

/** A list, or (HeroSMS, seen live) an object keyed by index; some clones put it under `data`. */
const activationList = z.union([z.array(activeActivation), z.record(z.string(), activeActivation).transform((byKey) => Object.values(byKey))]);

export const activeActivationsSchema = z
  .object({ activeActivations: activationList.optional(), data: activationList.optional() })
  .transform((body) => ({ activeActivations: body.activeActivations ?? body.data ?? [] }));

const flag = z.union([z.number(), z.string(), z.boolean()]).transform((value) => value === true || value === 1 || value === '1');
const nullableText = z.union([z.string(), z.number()]).transform(String).nullish();

/** getStatusV2: `{verificationType, sms: {dateTime, code, text}, call: {from, text, code, dateTime, url, parsingCount}}`, either part null. */
export const statusV2Schema = z.object({
  verificationType: z.union([z.number(), z.string().regex(/^\d+$/).transform(Number)]).nullish(),
  sms: z.object({ dateTime: nullableText, code: nullableText, text: nullableText }).nullish(),
  call: z.object({ from: nullableText, text: nullableText, code: nullableText, dateTime: nullableText, url: nullableText }).nullish(),
});

const topCountry = z.object({
  country: id,
  count,
  price: amount,
  retail_price: amount.nullish(),
  freePriceMap: z.record(z.string(), count).nullish(),
});

/** getTopCountriesByService: an object keyed "0".."n" (a list on some clones). */
export const topCountriesSchema = z.union([
  z.array(topCountry),
  z.record(z.string(), topCountry).transform((byKey) =>
    Object.entries(byKey)
      .sort(([a], [b]) => Number(a) - Number(b))
      .map(([, row]) => row),
  ),
]);

const country = z.object({ id, eng: z.string().nullish(), rus: z.string().nullish(), visible: flag.optional() });

/** getCountries: keyed by id on SMS-Activate and HeroSMS, a plain list on some clones (Tiger, seen live). */
export const countriesSchema = z.union([z.array(country), z.record(z.string(), country).transform((byKey) => Object.values(byKey))]);

export const servicesListSchema = z.object({ services: z.array(z.object({ code: z.string(), name: z.string() })) });
