import { z } from 'zod';
import { decimalToMicros } from '../lib/money';
import { cleanCode, cleanText } from '../lib/text';
import { ProviderError } from './types';

/**
 * An SMS text or code as a provider sends it: cleaned of what PostgreSQL or a reader cannot take
 * (src/lib/text.ts), never refused — the customer paid for this SMS, and a provider will not
 * send it differently next time. A code with nothing left after cleaning is no code (null).
 */
export const providerText = z.union([z.string(), z.number()]).transform((text) => cleanText(String(text)));
export const providerCode = z.union([z.string(), z.number()]).transform(cleanCode);

/**
 * The values every protocol's replies carry — documented shapes, amounts, phone numbers — read
 * the same way for each: a value that is not what it should be is TRANSIENT UNEXPECTED_REPLY
 * (more likely a provider-side fault than a permanent "no"), naming the provider and the call.
 */
export class ReplyValues {
  constructor(private readonly providerId: string) {}

  shaped<T extends z.ZodType>(value: unknown, schema: T, action: string): z.infer<T> {
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      throw this.unexpected(action, `reply does not have the documented shape (${parsed.error.issues[0]?.message ?? 'invalid'})`);
    }
    return parsed.data;
  }

  micros(value: string | number, action: string): bigint {
    try {
      return decimalToMicros(value);
    } catch (error) {
      throw this.unexpected(action, `not an amount: ${String(value)}`, error);
    }
  }

  /** E.164, the one form SimGate stores, from whatever the provider sent (with or without `+`, spaces, dashes). */
  phone(raw: string, action: string): string {
    const digits = raw.replace(/\D/g, '');
    if (digits.length < 6 || digits.length > 15) throw this.unexpected(action, `not a phone number: ${raw}`);
    return `+${digits}`;
  }

  unexpected(action: string, what: string, cause?: unknown): ProviderError {
    return new ProviderError('TRANSIENT', 'UNEXPECTED_REPLY', `${this.providerId} ${action}: ${what}`, undefined, cause === undefined ? undefined : { cause });
  }
}
