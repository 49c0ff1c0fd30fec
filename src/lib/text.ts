/**
 * The one rule for text in SimGate. Invalid: U+0000 (PostgreSQL refuses it in text and jsonb,
 * so a write carrying it fails on every retry), the other C0 controls but tab, newline and
 * carriage return (they hide or garble what a customer or an admin reads), and UTF-16
 * surrogates not part of a pair (half a character: no UTF-8 encoding exists, and the driver
 * would silently store U+FFFD instead).
 *
 * Two ways to apply it, chosen by who sent the text:
 * - from a customer, a partner or an admin: refused at the edge (src/http/middleware/text.ts),
 *   since they can fix what they send;
 * - from a provider: cleaned (`cleanText`), never refused, since the SMS is what the customer
 *   paid for and the provider will not send it differently next time.
 */

const CONTROL = '\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F';
const LONE_SURROGATE = '[\\uD800-\\uDBFF](?![\\uDC00-\\uDFFF])|(?<![\\uD800-\\uDBFF])[\\uDC00-\\uDFFF]';

const INVALID = new RegExp(`[${CONTROL}]|${LONE_SURROGATE}`);
const INVALID_ALL = new RegExp(INVALID.source, 'g');
const CONTROLS = new RegExp(`[${CONTROL}]`, 'g');
const LONE_SURROGATES = new RegExp(LONE_SURROGATE, 'g');

export function isValidText(text: string): boolean {
  return !INVALID.test(text);
}

/**
 * Text from the outside world that must not be lost: controls are dropped (a code `12\0 34`
 * stays readable as `12 34`), and a lone surrogate becomes U+FFFD, the mark for "a character
 * was here" that the reader can still see.
 */
export function cleanText(text: string): string {
  return text.replace(CONTROLS, '').replace(LONE_SURROGATES, '\uFFFD');
}

/** Invalid characters written out as `\u0000`, for naming a bad string (a JSON key, say) in an answer without repeating it. */
export function escapeInvalidText(text: string): string {
  return text.replace(INVALID_ALL, (char) => `\\u${char.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`);
}

/** A code from a provider: cleaned and trimmed; nothing left is no code at all. */
export function cleanCode(code: string | number | null | undefined): string | null {
  if (code == null) return null;
  const cleaned = cleanText(String(code)).trim();
  return cleaned === '' ? null : cleaned;
}

/** A path built only when it is reported: copying it at every level would cost depth² on a deep body. */
interface PathLink {
  key: string;
  parent: PathLink | null;
}

function pathOf(link: PathLink | null): string {
  const keys: string[] = [];
  for (let at = link; at; at = at.parent) keys.unshift(at.key);
  return keys.join('.');
}

/**
 * Where, in a parsed request part (JSON body, query, params), an invalid string is — object
 * keys count, since handlers may store them — as a dotted path (`''` for the value itself);
 * null when every string is valid. Iterative: a 64 kB body can nest 30 000 deep.
 */
export function findInvalidText(value: unknown): string | null {
  const pending: { value: unknown; at: PathLink | null }[] = [{ value, at: null }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const { value: item, at } = next;
    if (typeof item === 'string') {
      if (!isValidText(item)) return pathOf(at);
    } else if (Array.isArray(item)) {
      item.forEach((element, i) => pending.push({ value: element, at: { key: String(i), parent: at } }));
    } else if (typeof item === 'object' && item !== null) {
      for (const [key, element] of Object.entries(item)) {
        const link = { key, parent: at };
        if (!isValidText(key)) return pathOf(link);
        pending.push({ value: element, at: link });
      }
    }
  }
  return null;
}
