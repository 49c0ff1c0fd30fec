import { ProviderError } from '../types';
import { errorForPhrase, excerpt, isKnownPhrase } from './errors';
import { cleanText } from '../../lib/text';

/**
 * Turns one 5sim HTTP reply into its JSON value, or throws the ProviderError it amounts to.
 * Bodies are read as text first: successes are JSON, refusals are plain-text phrases — one of
 * them (`no free phones`) with HTTP 200 — so neither the status nor the content type can be
 * trusted alone (spec 1.1, 1.6). The JSON value may be `null` (`/guest/prices` for a product
 * that is not sold in a country).
 */
export function parseReply(status: number, body: string, context: string): unknown {
  // Raw controls would jam the SMS they carry (a bare token's code) or make valid JSON unparseable.
  const text = cleanText(body).trim();
  const phrase = phraseOf(text);

  // Rate limits and server faults are worth retrying whatever the body says.
  if (status === 429 || status >= 500) {
    throw new ProviderError('TRANSIENT', phrase !== null && isKnownPhrase(phrase) ? phrase : `HTTP ${status}`, `${context}: HTTP ${status}${phrase ? ` ${excerpt(phrase)}` : ''}`);
  }
  // 5sim answers a missing, bad or expired token with 401 and an empty body (or a phrase).
  if (status === 401) {
    throw new ProviderError('REJECTED', phrase && isKnownPhrase(phrase) ? phrase : 'unauthorized', `${context}: HTTP 401${phrase ? ` ${excerpt(phrase)}` : ''}`);
  }
  const json = parseJson(text);
  if (json.ok && typeof json.value !== 'string') {
    if (status >= 200 && status < 300) return json.value;
    throw new ProviderError('TRANSIENT', `HTTP ${status}`, `${context}: HTTP ${status}: ${excerpt(text)}`);
  }
  if (phrase !== null && isKnownPhrase(phrase)) throw errorForPhrase(phrase, context);
  throw new ProviderError('TRANSIENT', 'UNPARSEABLE', `${context}: unparseable reply (HTTP ${status}): ${excerpt(text)}`);
}

/** The refusal phrase a body carries: the text itself, lower-cased, or a JSON string's content. */
function phraseOf(text: string): string | null {
  if (text === '') return null;
  const json = parseJson(text);
  const raw = json.ok ? (typeof json.value === 'string' ? json.value : null) : text;
  return raw === null ? null : raw.trim().toLowerCase();
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}
