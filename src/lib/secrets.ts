import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * Envelope for secrets at rest (provider API keys, TOTP secrets, partner webhook secrets):
 * AES-256-GCM with a random 96-bit IV, stored as `v<version>.<iv>.<tag>.<ciphertext>` (base64url).
 * The version names the key, so keys rotate: new writes use the current key, old envelopes stay
 * readable while their key is configured, and `needsRotation` tells a re-encryption job which to
 * rewrite. The associated data binds an envelope to its purpose (a TOTP secret cannot be pasted
 * into a provider's key column and decrypt).
 */
export interface SecretKeyring {
  current: number;
  keys: ReadonlyMap<number, Buffer>;
}

export class SecretDecryptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretDecryptionError';
  }
}

/** Parses `1:<base64 32 bytes>,2:<base64 32 bytes>`; the highest version encrypts. */
export function parseKeyring(spec: string): SecretKeyring {
  const keys = new Map<number, Buffer>();
  for (const part of spec.split(',').map((p) => p.trim()).filter(Boolean)) {
    const match = /^(\d+):(.+)$/.exec(part);
    if (!match) throw new Error('SECRETS_KEYS: entries must look like <version>:<base64 key>');
    const key = Buffer.from(match[2], 'base64');
    if (key.length !== 32) throw new Error(`SECRETS_KEYS: key ${match[1]} must be 32 bytes (base64)`);
    keys.set(Number(match[1]), key);
  }
  if (keys.size === 0) throw new Error('SECRETS_KEYS: no keys');
  return { current: Math.max(...keys.keys()), keys };
}

/** A fixed development keyring derived from a label; production must configure SECRETS_KEYS. */
export function developmentKeyring(label = 'simgate-development-only'): SecretKeyring {
  return { current: 1, keys: new Map([[1, createHash('sha256').update(label).digest()]]) };
}

export class SecretBox {
  constructor(private readonly keyring: SecretKeyring) {}

  encrypt(plaintext: string, purpose: string): string {
    const key = this.keyring.keys.get(this.keyring.current)!;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(purpose));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [`v${this.keyring.current}`, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), ciphertext.toString('base64url')].join('.');
  }

  decrypt(envelope: string, purpose: string): string {
    const [version, iv, tag, ciphertext] = envelope.split('.');
    const key = /^v\d+$/.test(version ?? '') ? this.keyring.keys.get(Number(version.slice(1))) : undefined;
    if (!key || !iv || !tag || ciphertext === undefined) throw new SecretDecryptionError('unknown key version or malformed secret');
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(purpose));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretDecryptionError('secret failed authentication (wrong key, purpose or tampered data)');
    }
  }

  needsRotation(envelope: string): boolean {
    return !envelope.startsWith(`v${this.keyring.current}.`);
  }

  /** Re-encrypts under the current key; returns the input unchanged when it already is. */
  rotate(envelope: string, purpose: string): string {
    return this.needsRotation(envelope) ? this.encrypt(this.decrypt(envelope, purpose), purpose) : envelope;
  }
}
