import type { FivesimSms } from './schemas';

/**
 * The code an SMS carries. 5sim parses it into `code`, but that may be `""` with the code only
 * in the text (spec 1.3): then the text is searched — a `123-456` / `123 456` split code first,
 * then the first run of 4–8 digits, then any digits. `""` when there is nothing to find.
 */
export function codeOf(sms: FivesimSms): string {
  const parsed = sms.code?.trim();
  if (parsed) return parsed;
  const text = sms.text ?? '';
  const split = /(?<!\d)(\d{3})[-\s](\d{3})(?!\d)/.exec(text);
  if (split) return `${split[1]}${split[2]}`;
  return /(?<!\d)\d{4,8}(?!\d)/.exec(text)?.[0] ?? /\d+/.exec(text)?.[0] ?? '';
}
