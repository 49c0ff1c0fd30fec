/**
 * Is a configured secret strong enough for production? Length alone is not: 32 × "a" is 32
 * characters and zero bits. The estimate is the string's Shannon entropy (bits per character of
 * its own character distribution × length), which a repeated or keyboard-walk secret fails and
 * any randomly generated one (`openssl rand -base64 32`, 32 random hex bytes …) passes easily.
 * Values shipped in this repository as development defaults are refused whatever their entropy,
 * compared without regard to case or separators so `Dev-only-…` or `DEV_ONLY_…` do not slip through.
 */

/** 32 random hex characters (128 bits) estimate at ≈ 115; a real secret is far above. */
export const MIN_SECRET_BITS = 100;
export const MIN_SECRET_LENGTH = 32;

/** Fragments of development defaults and placeholders; a secret containing one is refused. */
const KNOWN_WEAK_FRAGMENTS = ['devonly', 'changeme', 'devproviderwebhooksecret', 'simgatedevelopment', 'placeholder', 'example', 'secretsecret', 'password'];

const canonical = (value: string) => value.toLowerCase().replace(/[^a-z0-9]/g, '');

export function entropyBits(value: string): number {
  if (value.length === 0) return 0;
  const counts = new Map<string, number>();
  for (const char of value) counts.set(char, (counts.get(char) ?? 0) + 1);
  let bitsPerChar = 0;
  for (const count of counts.values()) {
    const p = count / value.length;
    bitsPerChar -= p * Math.log2(p);
  }
  return bitsPerChar * value.length;
}

/** Why `value` is too weak to be a production secret, or null when it is fine. */
export function secretWeakness(value: string): string | null {
  if (value.length < MIN_SECRET_LENGTH) return `must be at least ${MIN_SECRET_LENGTH} characters in production`;
  const flat = canonical(value);
  if (KNOWN_WEAK_FRAGMENTS.some((fragment) => flat.includes(fragment))) return 'is a development default or placeholder; generate a random one (e.g. openssl rand -base64 32)';
  if (entropyBits(value) < MIN_SECRET_BITS) return 'is too predictable (low entropy); generate a random one (e.g. openssl rand -base64 32)';
  return null;
}

/** A 32-byte AES key: random bytes repeat rarely, a hand-made key (all 7s, 0..31 …) does not look random. */
export function keyWeakness(key: Buffer): string | null {
  const distinct = new Set(key).size;
  if (distinct < 16) return 'is not random (too few distinct bytes); generate one with openssl rand -base64 32';
  const ascending = key.every((byte, i) => i === 0 || byte === ((key[i - 1] + 1) & 0xff));
  if (ascending) return 'is not random (a byte sequence); generate one with openssl rand -base64 32';
  return null;
}

/** Passwords nobody may bootstrap a production admin with. */
const KNOWN_DEFAULT_PASSWORDS = new Set(['admin-password', 'adminpassword', 'password', 'password1', 'passw0rd', 'changeme', 'admin', 'admin123', 'administrator', 'letmein', 'qwerty', 'simgate', '12345678', '123456789', '1234567890']);

export const MIN_ADMIN_PASSWORD_LENGTH = 12;

/** Why `password` cannot bootstrap the production admin, or null. */
export function adminPasswordWeakness(password: string): string | null {
  const lower = password.toLowerCase();
  if (KNOWN_DEFAULT_PASSWORDS.has(lower) || KNOWN_DEFAULT_PASSWORDS.has(canonical(password))) return 'is a known default password';
  if (password.length < MIN_ADMIN_PASSWORD_LENGTH) return `must be at least ${MIN_ADMIN_PASSWORD_LENGTH} characters in production`;
  if (password.length > 200) return 'must be at most 200 characters';
  if (new Set(password).size < 6) return 'is too predictable (too few distinct characters)';
  return null;
}
