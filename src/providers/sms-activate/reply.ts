import { ProviderError } from '../types';
import type { TokenReply } from './errors';
import { cleanText } from '../../lib/text';

/**
 * Turns one handler_api HTTP reply into either a token (`ACCESS_NUMBER:1:62…`, `NO_NUMBERS`, a
 * HeroSMS JSON error) or a JSON value, or throws TRANSIENT when it is neither. Bodies are read
 * as text first because the same action may answer JSON on success and a bare token on error.
 */
export type Reply = ({ type: 'token' } & TokenReply) | { type: 'json'; value: unknown };

/** Spec 2.6: the test for a bare token, applied before any JSON.parse. */
const TOKEN = /^[A-Z_]+(:|$)/;

export function parseReply(status: number, body: string, context: string): Reply {
  // Raw controls would jam the SMS they carry (a bare token's code) or make valid JSON unparseable.
  const text = cleanText(body).trim();
  let reply: Reply | null = null;
  if (TOKEN.test(text)) {
    reply = { type: 'token', ...splitToken(text) };
  } else {
    const value = parseJson(text);
    if (value !== undefined) reply = jsonError(value) ?? { type: 'json', value };
  }

  // Rate limits and server faults are worth retrying whatever the body says.
  if (status === 429 || status >= 500) {
    throw new ProviderError('TRANSIENT', reply?.type === 'token' ? reply.name : `HTTP ${status}`, `${context}: HTTP ${status}${reply?.type === 'token' ? ` ${reply.name}` : ''}`);
  }
  if (!reply) throw new ProviderError('TRANSIENT', 'UNPARSEABLE', `${context}: unparseable reply (HTTP ${status}): ${excerpt(text)}`);
  // A 4xx carrying something other than an error token is not an answer we understand.
  if (reply.type === 'json' && (status < 200 || status >= 300)) {
    throw new ProviderError('TRANSIENT', `HTTP ${status}`, `${context}: HTTP ${status}: ${excerpt(text)}`);
  }
  return reply;
}

function splitToken(text: string, info?: Record<string, unknown>): TokenReply {
  const colon = text.indexOf(':');
  return colon < 0 ? { name: text, value: null, info } : { name: text.slice(0, colon), value: text.slice(colon + 1), info };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * HeroSMS errors: `{"status":"error","message":"<TOKEN>","errorMsg":"…","info":{…}}`, or the
 * problem style `{"title":"EARLY_CANCEL_DENIED","details":"…","info":{"minActivationTime":120}}`.
 */
function jsonError(value: unknown): Reply | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const body = value as Record<string, unknown>;
  const info = typeof body.info === 'object' && body.info !== null ? (body.info as Record<string, unknown>) : undefined;
  if (body.status === 'error') {
    const message = typeof body.message === 'string' ? body.message.trim() : '';
    // An error without a token is still an error: keep its words, it maps to TRANSIENT.
    if (!TOKEN.test(message)) return { type: 'token', name: 'ERROR', value: message || String(body.errorMsg ?? ''), info };
    return { type: 'token', ...splitToken(message, info) };
  }
  if (body.status !== 'success' && typeof body.title === 'string' && TOKEN.test(body.title)) {
    return { type: 'token', ...splitToken(body.title, info) };
  }
  return null;
}

function excerpt(text: string): string {
  return text.length > 120 ? `${text.slice(0, 120)}…` : text;
}
