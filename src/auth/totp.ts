import { Secret, TOTP } from 'otpauth';
import { sha256Hex } from './tokens';

/**
 * RFC 6238 time-based one-time passwords (otpauth): SHA-1, 6 digits, 30-second steps — what every
 * authenticator app understands. One step of clock drift either way is accepted.
 */
export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_DIGITS = 6;
const WINDOW = 1;
export const RECOVERY_CODE_COUNT = 10;

function totp(secretBase32: string, label = 'SimGate'): TOTP {
  return new TOTP({ issuer: 'SimGate', label, algorithm: 'SHA1', digits: TOTP_DIGITS, period: TOTP_PERIOD_SECONDS, secret: Secret.fromBase32(secretBase32) });
}

/** 160-bit secret (RFC 4226 recommends at least 128), base32 as authenticator apps expect. */
export function generateTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

/** The `otpauth://totp/…` URI an authenticator app scans as a QR code. */
export function totpUri(secretBase32: string, accountEmail: string): string {
  return totp(secretBase32, accountEmail).toString();
}

/** The code an authenticator shows at `timestampMs` (tests and tooling). */
export function totpCode(secretBase32: string, timestampMs = Date.now()): string {
  return totp(secretBase32).generate({ timestamp: timestampMs });
}

/**
 * Checks a code; returns the time step it matched (so a caller can refuse the same step twice),
 * or null. Anything that is not exactly six digits is refused before any crypto.
 */
export function matchTotp(secretBase32: string, code: string, timestampMs = Date.now()): number | null {
  const token = code.replace(/\s+/g, '');
  if (!/^\d{6}$/.test(token)) return null;
  const delta = totp(secretBase32).validate({ token, timestamp: timestampMs, window: WINDOW });
  if (delta === null) return null;
  return Math.floor(timestampMs / 1000 / TOTP_PERIOD_SECONDS) + delta;
}

/**
 * Recovery codes: 80 random bits each, base32 in four groups (`ABCD-EFGH-IJKL-MNOP`). Shown once;
 * stored as SHA-256 of the normalised code — 80 bits is beyond offline guessing, so no slow hash.
 */
export function generateRecoveryCodes(count = RECOVERY_CODE_COUNT): string[] {
  return Array.from({ length: count }, () => new Secret({ size: 10 }).base32.match(/.{4}/g)!.join('-'));
}

/** Case, spaces and dashes do not matter when a person types a recovery code back. */
export function normalizeRecoveryCode(code: string): string {
  return code.toUpperCase().replace(/[^A-Z2-7]/g, '');
}

export function hashRecoveryCode(code: string): string {
  return sha256Hex(`simgate-recovery:${normalizeRecoveryCode(code)}`);
}
