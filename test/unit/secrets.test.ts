import { randomBytes } from 'node:crypto';
import { SecretBox, SecretDecryptionError, developmentKeyring, parseKeyring } from '../../src/lib/secrets';

const key = () => randomBytes(32).toString('base64');

describe('SecretBox', () => {
  it('round-trips and never stores the plaintext', () => {
    const box = new SecretBox(developmentKeyring());
    const envelope = box.encrypt('sk_live_provider_key', 'provider-api-key');
    expect(envelope).not.toContain('sk_live_provider_key');
    expect(envelope.startsWith('v1.')).toBe(true);
    expect(box.decrypt(envelope, 'provider-api-key')).toBe('sk_live_provider_key');
    expect(box.encrypt('same', 'p')).not.toBe(box.encrypt('same', 'p')); // random IV
  });

  it('refuses tampering, a wrong purpose and unknown key versions', () => {
    const box = new SecretBox(developmentKeyring());
    const envelope = box.encrypt('secret', 'totp');
    const [v, iv, tag, ct] = envelope.split('.');
    const flipped = Buffer.from(ct, 'base64url');
    flipped[0] ^= 1;
    expect(() => box.decrypt([v, iv, tag, flipped.toString('base64url')].join('.'), 'totp')).toThrow(SecretDecryptionError);
    expect(() => box.decrypt(envelope, 'provider-api-key')).toThrow(SecretDecryptionError);
    expect(() => box.decrypt(envelope.replace(/^v1/, 'v9'), 'totp')).toThrow(SecretDecryptionError);
    expect(() => box.decrypt('garbage', 'totp')).toThrow(SecretDecryptionError);
  });

  it('rotates: old envelopes stay readable, new ones use the newest key', () => {
    const k1 = key();
    const oldBox = new SecretBox(parseKeyring(`1:${k1}`));
    const old = oldBox.encrypt('webhook-secret', 'partner-webhook');
    const newBox = new SecretBox(parseKeyring(`1:${k1},2:${key()}`));
    expect(newBox.decrypt(old, 'partner-webhook')).toBe('webhook-secret');
    expect(newBox.needsRotation(old)).toBe(true);
    const rotated = newBox.rotate(old, 'partner-webhook');
    expect(rotated.startsWith('v2.')).toBe(true);
    expect(newBox.needsRotation(rotated)).toBe(false);
    expect(newBox.decrypt(rotated, 'partner-webhook')).toBe('webhook-secret');
    expect(() => oldBox.decrypt(rotated, 'partner-webhook')).toThrow(SecretDecryptionError);
  });

  it('validates key specs', () => {
    expect(() => parseKeyring('')).toThrow();
    expect(() => parseKeyring('1:short')).toThrow(/32 bytes/);
    expect(() => parseKeyring('nonsense')).toThrow(/version/);
  });
});
