import { createHmac } from 'node:crypto';
import { safeEqual, sha256Hex } from './tokens';

/**
 * Partner request signatures (docs/partners.md). The signed string is
 *
 *   METHOD \n PATH-WITH-QUERY \n TIMESTAMP \n NONCE \n SHA256-HEX(BODY)
 *
 * and the signature is the lower-case hex HMAC-SHA256 of it under the API key's signing secret.
 */
export const SIGNATURE_HEADER = 'x-signature';
export const SIGNATURE_TIMESTAMP_HEADER = 'x-signature-timestamp';
export const SIGNATURE_NONCE_HEADER = 'x-signature-nonce';

export interface SignedParts {
  method: string;
  /** Path with the query string exactly as sent, e.g. `/api/v1/numbers?x=1`. */
  path: string;
  timestamp: string;
  nonce: string;
  body: string | Buffer;
}

export function canonicalString(parts: SignedParts): string {
  return [parts.method.toUpperCase(), parts.path, parts.timestamp, parts.nonce, sha256Hex(parts.body)].join('\n');
}

export function signRequest(secret: string, parts: SignedParts): string {
  return createHmac('sha256', secret).update(canonicalString(parts)).digest('hex');
}

export function verifyRequestSignature(secret: string, parts: SignedParts, signature: string): boolean {
  if (!/^[0-9a-f]{64}$/i.test(signature)) return false;
  return safeEqual(signRequest(secret, parts), signature.toLowerCase());
}

/** Nonces: 16–128 characters of [A-Za-z0-9_-] (a UUID or 16+ random bytes in base64url/hex). */
export const NONCE_PATTERN = /^[A-Za-z0-9_-]{16,128}$/;

/** 'ok', 'expired' (outside ± tolerance) or 'malformed' (not whole unix seconds). */
export function checkTimestamp(timestamp: string, nowSeconds: number, toleranceSeconds: number): 'ok' | 'expired' | 'malformed' {
  if (!/^\d{1,12}$/.test(timestamp)) return 'malformed';
  return Math.abs(nowSeconds - Number(timestamp)) <= toleranceSeconds ? 'ok' : 'expired';
}
