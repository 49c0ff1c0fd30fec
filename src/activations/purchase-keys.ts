import { createHash } from 'node:crypto';
import type { Db } from '../db/client';

/** A purchase as the Idempotency-Key contract compares it: the request after validation and normalisation. */
export interface PurchaseFingerprintInput {
  serviceCode: string;
  countryIso: string;
  maxPriceMicros: bigint | null;
}

export interface PurchaseKeyClaim {
  /** True for the one request that inserted the key; every other request with it sees false. */
  claimed: boolean;
  fingerprint: string;
  activationId: string;
}

/**
 * The purchase_keys table. The claim is one INSERT … ON CONFLICT DO NOTHING, so of any number of
 * concurrent requests with one key exactly one claims it, and the others read what it was
 * claimed for — no lock held across the Temporal call that follows.
 */
export class PurchaseKeys {
  constructor(private readonly deps: { db: Db }) {}

  /** Versioned, so a field added to the purchase body later can change what counts as "the same request". */
  static fingerprint(request: PurchaseFingerprintInput): string {
    const normalised = JSON.stringify(['purchase/v1', request.serviceCode, request.countryIso, request.maxPriceMicros?.toString() ?? null]);
    return createHash('sha256').update(normalised).digest('hex');
  }

  /**
   * The key's claim, if any, and whether the activation it would name already has a row (a
   * purchase from before keys were claimed): one round trip for the two questions every keyed
   * purchase asks first.
   */
  async lookup(userId: string, key: string, activationId: string): Promise<{ claim: PurchaseKeyClaim | null; activationExists: boolean }> {
    const [row] = await this.deps.db.$queryRaw<{ fingerprint: string | null; activation_id: string | null; activation_exists: boolean }[]>`
      SELECT k.fingerprint, k.activation_id, EXISTS (SELECT 1 FROM activations WHERE id = ${activationId}) AS activation_exists
      FROM (SELECT 1) AS one LEFT JOIN purchase_keys k ON k.user_id = ${userId}::uuid AND k.key = ${key}`;
    const claim = row.fingerprint !== null && row.activation_id !== null ? { claimed: false, fingerprint: row.fingerprint, activationId: row.activation_id } : null;
    return { claim, activationExists: row.activation_exists };
  }

  async find(userId: string, key: string): Promise<PurchaseKeyClaim | null> {
    const [row] = await this.deps.db.$queryRaw<{ fingerprint: string; activation_id: string }[]>`
      SELECT fingerprint, activation_id FROM purchase_keys WHERE user_id = ${userId}::uuid AND key = ${key}`;
    return row ? { claimed: false, fingerprint: row.fingerprint, activationId: row.activation_id } : null;
  }

  async claim(userId: string, key: string, fingerprint: string, activationId: string): Promise<PurchaseKeyClaim> {
    const inserted = await this.deps.db.$queryRaw<{ fingerprint: string }[]>`
      INSERT INTO purchase_keys (user_id, key, fingerprint, activation_id)
      VALUES (${userId}::uuid, ${key}, ${fingerprint}, ${activationId})
      ON CONFLICT (user_id, key) DO NOTHING
      RETURNING fingerprint`;
    if (inserted.length === 1) return { claimed: true, fingerprint, activationId };
    // A separate statement, so it sees the row the winner committed (one statement's snapshot may
    // predate the row its own ON CONFLICT found). Claims are never deleted, so it is there.
    const existing = await this.find(userId, key);
    if (!existing) throw new Error(`purchase key of user ${userId} conflicted but cannot be read`);
    return existing;
  }
}
