/**
 * The wallet against real PostgreSQL: races, replays, refusals and a long randomized run checked
 * against a pure in-memory model. Other suites share this database, so every assertion is scoped
 * to wallets created here, and deliberate corruption happens only inside rolled-back transactions.
 */
import { randomUUID } from 'node:crypto';
import { createDb, type Db } from '../../src/db/client';
import { httpStatus } from '../../src/http/middleware/errors';
import { AppError } from '../../src/lib/errors';
import { WalletService, type HoldView, type InvariantViolation, type LedgerEntryView } from '../../src/wallet';

let db: Db;
let wallet: WalletService;

beforeAll(() => {
  db = createDb(process.env.DATABASE_URL!, { max: 20 });
  wallet = new WalletService({ db });
});

afterAll(async () => {
  await db.$disconnect();
});

// ─── Helpers ───────────────────────────────────────────────────────────────────────────────────

async function newUser(creditMicros = 0n): Promise<string> {
  const user = await db.user.create({ data: { email: `wallet-${randomUUID()}@test.simgate`, passwordHash: 'x' } });
  await wallet.ensureWallet(user.id);
  if (creditMicros > 0n) {
    await wallet.credit({ userId: user.id, amountMicros: creditMicros, idempotencyKey: `seed:${randomUUID()}`, memo: 'seed' });
  }
  return user.id;
}

const key = (label: string) => `${label}:${randomUUID()}`;

/** Balances plus row counts: if none of these changed, no money moved and nothing was written. */
async function footprint(userId: string) {
  const { walletId, availableMicros, heldMicros } = await wallet.getWallet(userId);
  const [entries, holds] = await Promise.all([db.ledgerEntry.count({ where: { walletId } }), db.hold.count({ where: { walletId } })]);
  return { availableMicros, heldMicros, entries, holds };
}

async function expectRefusal(promise: Promise<unknown>, code: string, status: number): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  expect({ code: (error as AppError).code, status: httpStatus[(error as AppError).code] }).toEqual({ code, status });
}

async function expectBalances(userId: string, availableMicros: bigint, heldMicros: bigint): Promise<void> {
  expect(await wallet.getWallet(userId)).toMatchObject({ availableMicros, heldMicros });
}

/** Runs `work` in a transaction that is always rolled back, so other sessions never see it. */
async function withRollback(work: (tx: Db) => Promise<void>): Promise<void> {
  const rollback = new Error('rollback');
  await db
    .$transaction(async (tx) => {
      await work(tx as unknown as Db);
      throw rollback;
    })
    .catch((error: unknown) => {
      if (error !== rollback) throw error;
    });
}

function codeOf(result: PromiseSettledResult<unknown>): string {
  if (result.status === 'fulfilled') return 'OK';
  return result.reason instanceof AppError ? result.reason.code : `UNEXPECTED ${String(result.reason)}`;
}

// ─── Wallet creation ───────────────────────────────────────────────────────────────────────────

describe('ensureWallet / getWallet', () => {
  it('creates one wallet per user, also when called concurrently', async () => {
    const user = await db.user.create({ data: { email: `wallet-${randomUUID()}@test.simgate`, passwordHash: 'x' } });
    const snapshots = await Promise.all(Array.from({ length: 20 }, () => wallet.ensureWallet(user.id)));
    expect(new Set(snapshots.map((s) => s.walletId)).size).toBe(1);
    expect(snapshots[0]).toEqual({ walletId: snapshots[0].walletId, userId: user.id, availableMicros: 0n, heldMicros: 0n });
    expect(await db.wallet.count({ where: { userId: user.id } })).toBe(1);
    expect(await wallet.getWallet(user.id)).toEqual(snapshots[0]);
  });

  it('refuses unknown users and wallets', async () => {
    await expectRefusal(wallet.ensureWallet(randomUUID()), 'USER_NOT_FOUND', 404);
    await expectRefusal(wallet.ensureWallet('not-a-uuid'), 'USER_NOT_FOUND', 404);
    await expectRefusal(wallet.getWallet(randomUUID()), 'WALLET_NOT_FOUND', 404);
    await expectRefusal(wallet.getWallet('not-a-uuid'), 'WALLET_NOT_FOUND', 404);
  });
});

// ─── Races ─────────────────────────────────────────────────────────────────────────────────────

describe('concurrency', () => {
  it('200 concurrent holds on a wallet funded for exactly 57 of them: 57 succeed, the rest are refused', async () => {
    const amount = 1_230_000n;
    const fits = 57;
    const userId = await newUser(amount * BigInt(fits));

    const results = await Promise.allSettled(
      Array.from({ length: 200 }, (_, i) => wallet.hold({ userId, key: key(`race-${i}`), amountMicros: amount })),
    );

    const codes = results.map(codeOf);
    expect(codes.filter((c) => c === 'OK')).toHaveLength(fits);
    expect(codes.filter((c) => c === 'INSUFFICIENT_FUNDS')).toHaveLength(200 - fits);
    expect(await footprint(userId)).toEqual({ availableMicros: 0n, heldMicros: amount * BigInt(fits), entries: 1 + fits, holds: fits });
    expect(await wallet.checkInvariants(userId)).toEqual([]);
  });

  it('runs READ COMMITTED on a database whose default is stricter: concurrent holds on one wallet never fail to serialize', async () => {
    // A connection whose sessions default to SERIALIZABLE, as a server, database or role setting
    // would make them: concurrent updates of one wallet row would then fail (SQLSTATE 40001)
    // unless each transaction asks for READ COMMITTED.
    const url = new URL(process.env.DATABASE_URL!);
    url.searchParams.set('options', '-c default_transaction_isolation=serializable');
    const strictDb = createDb(url.toString(), { max: 20 });
    try {
      const strict = new WalletService({ db: strictDb });
      const amount = 10_000n;
      const userId = await newUser(amount * 20n);
      const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => strict.hold({ userId, key: key(`strict-${i}`), amountMicros: amount })));
      expect(results.map(codeOf)).toEqual(Array.from({ length: 20 }, () => 'OK'));
      expect(await footprint(userId)).toEqual({ availableMicros: 0n, heldMicros: amount * 20n, entries: 21, holds: 20 });
    } finally {
      await strictDb.$disconnect();
    }
  });

  it('50 concurrent credits with one key apply once and all return the same entry', async () => {
    const userId = await newUser();
    const idempotencyKey = key('topup');
    const entries = await Promise.all(
      Array.from({ length: 50 }, () => wallet.credit({ userId, amountMicros: 5_000_000n, idempotencyKey, memo: 'top-up' })),
    );
    expect(new Set(entries.map((e) => e.id)).size).toBe(1);
    expect(entries[0]).toMatchObject({ kind: 'CREDIT', availableDeltaMicros: 5_000_000n, heldDeltaMicros: 0n, memo: 'top-up', holdId: null });
    expect(await footprint(userId)).toEqual({ availableMicros: 5_000_000n, heldMicros: 0n, entries: 1, holds: 0 });

    // A later replay, too.
    const again = await wallet.credit({ userId, amountMicros: 5_000_000n, idempotencyKey, memo: 'top-up' });
    expect(again).toEqual(entries[0]);
    expect(await footprint(userId)).toEqual({ availableMicros: 5_000_000n, heldMicros: 0n, entries: 1, holds: 0 });
  });

  it('a hold key replayed concurrently and later holds once; captures and releases replay without applying twice', async () => {
    const userId = await newUser(10_000_000n);
    const holdKey = key('activation');

    const holds = await Promise.all(Array.from({ length: 20 }, () => wallet.hold({ userId, key: holdKey, amountMicros: 3_000_000n })));
    expect(new Set(holds.map((h) => h.holdId)).size).toBe(1);
    expect(holds[0]).toMatchObject({ key: holdKey, amountMicros: 3_000_000n, status: 'OPEN', capturedMicros: null });
    expect(await footprint(userId)).toEqual({ availableMicros: 7_000_000n, heldMicros: 3_000_000n, entries: 2, holds: 1 });

    const captures = await Promise.all(Array.from({ length: 10 }, () => wallet.capture({ key: holdKey, amountMicros: 2_000_000n })));
    for (const capture of captures) {
      expect(capture).toMatchObject({ holdId: holds[0].holdId, status: 'CAPTURED', capturedMicros: 2_000_000n });
    }
    const afterCapture = { availableMicros: 8_000_000n, heldMicros: 0n, entries: 3, holds: 1 };
    expect(await footprint(userId)).toEqual(afterCapture);

    // Sequential replays: the hold returns as it is now, the capture as it was; nothing moves.
    for (let i = 0; i < 3; i++) {
      expect(await wallet.hold({ userId, key: holdKey, amountMicros: 3_000_000n })).toMatchObject({ holdId: holds[0].holdId, status: 'CAPTURED' });
      expect(await wallet.capture({ key: holdKey, amountMicros: 2_000_000n })).toMatchObject({ status: 'CAPTURED', capturedMicros: 2_000_000n });
    }
    expect(await footprint(userId)).toEqual(afterCapture);

    // The ledger shows exactly one entry per step with the documented keys and deltas.
    const ledger = await wallet.listLedger(userId, { limit: 10 });
    expect(ledger.map((e) => [e.kind, e.idempotencyKey, e.availableDeltaMicros, e.heldDeltaMicros])).toEqual([
      ['CAPTURE', `${holdKey}:capture`, 1_000_000n, -3_000_000n],
      ['HOLD', `${holdKey}:hold`, -3_000_000n, 3_000_000n],
      ['CREDIT', expect.any(String), 10_000_000n, 0n],
    ]);
    expect(await wallet.checkInvariants(userId)).toEqual([]);
  });

  it('a hold key reused with another amount or on another wallet is refused, and moves nothing', async () => {
    const userId = await newUser(10_000_000n);
    const other = await newUser(10_000_000n);
    const holdKey = key('activation');
    await wallet.hold({ userId, key: holdKey, amountMicros: 3_000_000n });
    const [mine, theirs] = [await footprint(userId), await footprint(other)];

    await expectRefusal(wallet.hold({ userId, key: holdKey, amountMicros: 4_000_000n }), 'IDEMPOTENCY_KEY_REUSED', 422);
    await expectRefusal(wallet.hold({ userId: other, key: holdKey, amountMicros: 3_000_000n }), 'IDEMPOTENCY_KEY_REUSED', 422);
    expect([await footprint(userId), await footprint(other)]).toEqual([mine, theirs]);
    expect(await wallet.checkInvariants(userId)).toEqual([]);
    expect(await wallet.checkInvariants(other)).toEqual([]);
  });

  it('a release replayed concurrently releases once', async () => {
    const userId = await newUser(4_000_000n);
    const holdKey = key('activation');
    const hold = await wallet.hold({ userId, key: holdKey, amountMicros: 4_000_000n });
    await expectBalances(userId, 0n, 4_000_000n);

    const releases = await Promise.all(Array.from({ length: 10 }, () => wallet.release({ key: holdKey })));
    for (const release of releases) expect(release).toMatchObject({ holdId: hold.holdId, status: 'RELEASED', capturedMicros: null });
    expect(await wallet.release({ key: holdKey })).toMatchObject({ status: 'RELEASED' });
    expect(await footprint(userId)).toEqual({ availableMicros: 4_000_000n, heldMicros: 0n, entries: 3, holds: 1 });
    expect(await wallet.checkInvariants(userId)).toEqual([]);
  });

  it('a capture racing a release: exactly one settles the hold, the other is told it is settled', async () => {
    const userId = await newUser(20_000_000n);
    const keys = Array.from({ length: 10 }, (_, i) => key(`duel-${i}`));
    for (const k of keys) await wallet.hold({ userId, key: k, amountMicros: 2_000_000n });

    const outcomes = await Promise.all(
      keys.map(async (k) => {
        const [captured, released] = await Promise.allSettled([wallet.capture({ key: k, amountMicros: 1_500_000n }), wallet.release({ key: k })]);
        return [codeOf(captured), codeOf(released)];
      }),
    );
    let spent = 0n;
    for (const [captured, released] of outcomes) {
      expect([captured, released].sort()).toEqual(['HOLD_ALREADY_SETTLED', 'OK']);
      if (captured === 'OK') spent += 1_500_000n;
    }
    expect(await footprint(userId)).toEqual({ availableMicros: 20_000_000n - spent, heldMicros: 0n, entries: 1 + 10 + 10, holds: 10 });
    expect(await wallet.checkInvariants(userId)).toEqual([]);
  });
});

// ─── Settlement rules ──────────────────────────────────────────────────────────────────────────

describe('capture and release', () => {
  it('a partial capture spends the amount and returns the remainder to available', async () => {
    const userId = await newUser(2_000_000n);
    const holdKey = key('activation');
    await wallet.hold({ userId, key: holdKey, amountMicros: 1_000_000n, memo: 'telegram / GB' });
    await expectBalances(userId, 1_000_000n, 1_000_000n);

    const captured = await wallet.capture({ key: holdKey, amountMicros: 350_000n });
    expect(captured).toMatchObject({ status: 'CAPTURED', amountMicros: 1_000_000n, capturedMicros: 350_000n });
    expect(captured.settledAt).toBeInstanceOf(Date);
    await expectBalances(userId, 1_650_000n, 0n);

    const [entry] = await wallet.listLedger(userId, { limit: 1 });
    expect(entry).toMatchObject({ kind: 'CAPTURE', availableDeltaMicros: 650_000n, heldDeltaMicros: -1_000_000n, holdId: captured.holdId });
  });

  it('capturing the whole hold moves nothing back', async () => {
    const userId = await newUser(1_000_000n);
    const holdKey = key('activation');
    await wallet.hold({ userId, key: holdKey, amountMicros: 1_000_000n });
    await wallet.capture({ key: holdKey, amountMicros: 1_000_000n });
    await expectBalances(userId, 0n, 0n);
    expect(await wallet.checkInvariants(userId)).toEqual([]);
  });

  it('capture after release and release after capture are refused with balances unchanged', async () => {
    const userId = await newUser(5_000_000n);
    const released = key('released');
    const captured = key('captured');
    await wallet.hold({ userId, key: released, amountMicros: 1_000_000n });
    await wallet.hold({ userId, key: captured, amountMicros: 1_000_000n });
    await wallet.release({ key: released });
    await wallet.capture({ key: captured, amountMicros: 600_000n });
    const before = await footprint(userId);
    expect(before).toEqual({ availableMicros: 4_400_000n, heldMicros: 0n, entries: 5, holds: 2 });

    await expectRefusal(wallet.capture({ key: released, amountMicros: 1_000_000n }), 'HOLD_ALREADY_SETTLED', 409);
    await expectRefusal(wallet.release({ key: captured }), 'HOLD_ALREADY_SETTLED', 409);
    // A second capture with another amount is not a replay either.
    await expectRefusal(wallet.capture({ key: captured, amountMicros: 700_000n }), 'HOLD_ALREADY_SETTLED', 409);
    expect(await footprint(userId)).toEqual(before);
    expect(await wallet.checkInvariants(userId)).toEqual([]);
  });
});

// ─── Refusals ──────────────────────────────────────────────────────────────────────────────────

describe('bad input', () => {
  it('refuses zero, negative and non-bigint amounts without moving money', async () => {
    const userId = await newUser(3_000_000n);
    const holdKey = key('activation');
    await wallet.hold({ userId, key: holdKey, amountMicros: 1_000_000n });
    const before = await footprint(userId);

    for (const amountMicros of [0n, -1n, -5_000_000n, 5 as unknown as bigint]) {
      await expectRefusal(wallet.credit({ userId, amountMicros, idempotencyKey: key('credit'), memo: '' }), 'INVALID_AMOUNT', 400);
      await expectRefusal(wallet.hold({ userId, key: key('hold'), amountMicros }), 'INVALID_AMOUNT', 400);
      await expectRefusal(wallet.capture({ key: holdKey, amountMicros }), 'INVALID_AMOUNT', 400);
    }
    // More than the hold.
    await expectRefusal(wallet.capture({ key: holdKey, amountMicros: 1_000_001n }), 'INVALID_AMOUNT', 400);
    // Empty keys.
    await expectRefusal(wallet.credit({ userId, amountMicros: 1n, idempotencyKey: ' ', memo: '' }), 'INVALID_IDEMPOTENCY_KEY', 400);
    await expectRefusal(wallet.hold({ userId, key: '', amountMicros: 1n }), 'INVALID_IDEMPOTENCY_KEY', 400);

    expect(await footprint(userId)).toEqual(before);
    expect(await wallet.capture({ key: holdKey, amountMicros: 1_000_000n })).toMatchObject({ status: 'CAPTURED' });
  });

  it('refuses an unknown wallet or hold key', async () => {
    const missing = randomUUID();
    await expectRefusal(wallet.credit({ userId: missing, amountMicros: 1n, idempotencyKey: key('c'), memo: '' }), 'WALLET_NOT_FOUND', 404);
    await expectRefusal(wallet.hold({ userId: missing, key: key('h'), amountMicros: 1n }), 'WALLET_NOT_FOUND', 404);
    await expectRefusal(wallet.listLedger(missing, { limit: 10 }), 'WALLET_NOT_FOUND', 404);
    await expectRefusal(wallet.capture({ key: key('nope'), amountMicros: 1n }), 'HOLD_NOT_FOUND', 404);
    await expectRefusal(wallet.release({ key: key('nope') }), 'HOLD_NOT_FOUND', 404);
  });

  it('refuses a credit key reused with another amount, wallet or kind, moving nothing', async () => {
    const userId = await newUser();
    const other = await newUser();
    const idempotencyKey = key('topup');
    await wallet.credit({ userId, amountMicros: 1_000_000n, idempotencyKey, memo: '' });
    const holdKey = key('activation');
    await wallet.hold({ userId, key: holdKey, amountMicros: 400_000n });
    const [before, otherBefore] = [await footprint(userId), await footprint(other)];

    await expectRefusal(wallet.credit({ userId, amountMicros: 2_000_000n, idempotencyKey, memo: '' }), 'IDEMPOTENCY_KEY_REUSED', 422);
    await expectRefusal(wallet.credit({ userId: other, amountMicros: 1_000_000n, idempotencyKey, memo: '' }), 'IDEMPOTENCY_KEY_REUSED', 422);
    // A credit whose key collides with a hold's ledger key.
    await expectRefusal(wallet.credit({ userId, amountMicros: 1n, idempotencyKey: `${holdKey}:hold`, memo: '' }), 'IDEMPOTENCY_KEY_REUSED', 422);
    // A hold key reused with another amount or wallet.
    await expectRefusal(wallet.hold({ userId, key: holdKey, amountMicros: 500_000n }), 'IDEMPOTENCY_KEY_REUSED', 422);
    await expectRefusal(wallet.hold({ userId: other, key: holdKey, amountMicros: 400_000n }), 'IDEMPOTENCY_KEY_REUSED', 422);

    expect(await footprint(userId)).toEqual(before);
    expect(await footprint(other)).toEqual(otherBefore);
  });

  it('refuses a hold whose ledger key a credit already took, writing nothing', async () => {
    const userId = await newUser();
    const holdKey = key('activation');
    await wallet.credit({ userId, amountMicros: 1_000_000n, idempotencyKey: `${holdKey}:hold`, memo: 'odd key' });
    const before = await footprint(userId);
    await expectRefusal(wallet.hold({ userId, key: holdKey, amountMicros: 500_000n }), 'IDEMPOTENCY_KEY_REUSED', 422);
    expect(await footprint(userId)).toEqual(before);
    expect(await wallet.checkInvariants(userId)).toEqual([]);
  });

  it('insufficient funds writes nothing, and the key stays free for a later attempt', async () => {
    const userId = await newUser(999_999n);
    const holdKey = key('activation');
    const before = await footprint(userId);
    await expectRefusal(wallet.hold({ userId, key: holdKey, amountMicros: 1_000_000n }), 'INSUFFICIENT_FUNDS', 402);
    expect(await footprint(userId)).toEqual(before);
    expect(await db.hold.findUnique({ where: { key: holdKey } })).toBeNull();
    expect(await db.ledgerEntry.findUnique({ where: { idempotencyKey: `${holdKey}:hold` } })).toBeNull();

    await wallet.credit({ userId, amountMicros: 1n, idempotencyKey: key('topup'), memo: '' });
    expect(await wallet.hold({ userId, key: holdKey, amountMicros: 1_000_000n })).toMatchObject({ status: 'OPEN' });
    await expectBalances(userId, 0n, 1_000_000n);
  });

  it('refuses a bad page size', async () => {
    const userId = await newUser();
    for (const limit of [0, -1, 1.5, 501]) await expectRefusal(wallet.listLedger(userId, { limit }), 'INVALID_LIMIT', 400);
  });
});

// ─── Ledger listing ────────────────────────────────────────────────────────────────────────────

describe('listLedger', () => {
  it('lists newest first and pages with beforeId', async () => {
    const userId = await newUser();
    const actorId = await newUser();
    for (let i = 1; i <= 7; i++) {
      await wallet.credit({ userId, amountMicros: BigInt(i), idempotencyKey: key(`c${i}`), memo: `#${i}`, actorId });
    }
    const first = await wallet.listLedger(userId, { limit: 3 });
    const second = await wallet.listLedger(userId, { limit: 3, beforeId: first[2].id });
    const third = await wallet.listLedger(userId, { limit: 3, beforeId: second[2].id });
    const amounts = (page: LedgerEntryView[]) => page.map((e) => e.availableDeltaMicros);
    expect([amounts(first), amounts(second), amounts(third)]).toEqual([[7n, 6n, 5n], [4n, 3n, 2n], [1n]]);
    expect(first[0]).toEqual({
      id: expect.any(BigInt),
      walletId: (await wallet.getWallet(userId)).walletId,
      idempotencyKey: expect.stringMatching(/^c7:/),
      kind: 'CREDIT',
      availableDeltaMicros: 7n,
      heldDeltaMicros: 0n,
      holdId: null,
      memo: '#7',
      actorId,
      createdAt: expect.any(Date),
    });
  });
});

// ─── Invariant checker ─────────────────────────────────────────────────────────────────────────

describe('checkInvariants', () => {
  it('reports a balance that disagrees with the ledger (inside a rolled-back transaction)', async () => {
    const userId = await newUser(1_000_000n);
    const { walletId } = await wallet.getWallet(userId);
    await withRollback(async (tx) => {
      await tx.$executeRaw`UPDATE wallets SET available = available + 1 WHERE id = ${walletId}::uuid`;
      const violations = await new WalletService({ db: tx }).checkInvariants(userId);
      expect(violations.map((v) => v.rule)).toEqual(['wallet_available_matches_ledger', 'wallet_total_matches_ledger']);
      expect(violations.every((v) => v.walletId === walletId)).toBe(true);
      expect(violations[0].detail).toContain('available 1000001');
    });
    expect(await wallet.checkInvariants(userId)).toEqual([]);
  });

  it('reports a hold settled without its ledger entry', async () => {
    const userId = await newUser(1_000_000n);
    const holdKey = key('activation');
    await wallet.hold({ userId, key: holdKey, amountMicros: 600_000n });
    await withRollback(async (tx) => {
      await tx.$executeRaw`UPDATE holds SET status = 'RELEASED', settled_at = now() WHERE key = ${holdKey}`;
      const rules = (await new WalletService({ db: tx }).checkInvariants(userId)).map((v) => v.rule);
      expect(rules).toEqual(['hold_settlement_entries', 'wallet_held_matches_open_holds']);
    });
  });

  it('reports a finished activation whose hold is still open', async () => {
    const userId = await newUser(1_000_000n);
    const activationId = `activation-${randomUUID()}`;
    await wallet.hold({ userId, key: activationId, amountMicros: 500_000n });
    await withRollback(async (tx) => {
      const serviceCode = `wallet-test-${randomUUID()}`;
      await tx.$executeRaw`INSERT INTO countries (iso2, name, dial) VALUES ('ZZ', 'Test', '0') ON CONFLICT DO NOTHING`;
      await tx.service.create({ data: { code: serviceCode, name: 'Wallet test', aliases: [] } });
      const activation = await tx.activation.create({
        data: { id: activationId, userId, serviceCode, countryIso: 'ZZ', heldMicros: 500_000n, status: 'ACTIVE' },
      });
      const inTx = new WalletService({ db: tx });
      expect(await inTx.checkInvariants(userId)).toEqual([]);

      await tx.activation.update({ where: { id: activation.id }, data: { status: 'EXPIRED' } });
      const violations: InvariantViolation[] = await inTx.checkInvariants(userId);
      expect(violations).toEqual([
        { walletId: (await wallet.getWallet(userId)).walletId, rule: 'finished_activation_left_no_hold', detail: expect.stringContaining(activationId) },
      ]);
      expect((await inTx.checkInvariants()).filter((v) => v.rule === 'finished_activation_left_no_hold' && v.detail.includes(activationId))).toHaveLength(1);
    });
    await wallet.release({ key: activationId });
    expect(await wallet.checkInvariants(userId)).toEqual([]);
  });
});

// ─── Randomized run against a model ────────────────────────────────────────────────────────────

/** mulberry32: small, seedable, good enough to pick operations. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  return {
    next,
    int,
    micros: (min: bigint, max: bigint) => min + BigInt(Math.floor(next() * Number(max - min + 1n))),
    pick: <T>(items: readonly T[]): T => items[int(0, items.length - 1)],
  };
}

type Op =
  | { kind: 'credit'; userId: string; key: string; amount: bigint }
  | { kind: 'hold'; userId: string; key: string; amount: bigint }
  | { kind: 'capture'; key: string; amount: bigint }
  | { kind: 'release'; key: string };

/** What the model says the call returns: success (with the hold's status, for hold calls) or an error code. */
type Expectation = { ok: true; status?: 'OPEN' | 'CAPTURED' | 'RELEASED'; captured?: bigint | null } | { ok: false; code: string };

interface ModelWallet {
  available: bigint;
  held: bigint;
  entries: number;
  holds: number;
}
interface ModelHold {
  userId: string;
  amount: bigint;
  status: 'OPEN' | 'CAPTURED' | 'RELEASED';
  captured: bigint | null;
  holdId?: string;
}
interface ModelCredit {
  userId: string;
  amount: bigint;
  entryId?: bigint;
}

/**
 * A pure model of the wallet and a planner that only emits batches whose outcome does not depend
 * on the order the database runs them in, so a batch can run concurrently and still be checked
 * exactly: holds expected to succeed fit in what was available when the batch began; holds
 * expected to fail ask for more than the wallet could possibly have by the end of the batch; a
 * hold is settled at most once per batch and never in the batch that created it; replays only
 * target keys the batch does not otherwise touch. Exact duplicates of an operation are allowed
 * anywhere: they must all return the same result and apply once.
 */
class WalletModel {
  readonly wallets = new Map<string, ModelWallet>();
  readonly holds = new Map<string, ModelHold>();
  readonly credits = new Map<string, ModelCredit>();
  private counter = 0;

  constructor(
    userIds: string[],
    private readonly rng: ReturnType<typeof prng>,
  ) {
    for (const id of userIds) this.wallets.set(id, { available: 0n, held: 0n, entries: 0, holds: 0 });
  }

  planBatch(size: number): { op: Op; expect: Expectation }[] {
    const { rng } = this;
    const users = [...this.wallets.keys()];
    const startAvailable = new Map(users.map((u) => [u, this.wallets.get(u)!.available]));
    const budget = new Map(startAvailable);
    const gained = new Map(users.map((u) => [u, 0n])); // all money that may reach available during the batch
    const touched = new Set<string>();
    const doomed: { op: Extract<Op, { kind: 'hold' }>; userId: string }[] = [];
    const plan: { op: Op; expect: Expectation }[] = [];
    const fresh = (label: string) => `rnd:${label}:${++this.counter}:${randomUUID()}`;
    const untouched = <T>(entries: [string, T][]) => entries.filter(([k]) => !touched.has(k));

    while (plan.length < size) {
      const roll = rng.next();
      const userId = rng.pick(users);
      const w = this.wallets.get(userId)!;
      let planned: { op: Op; expect: Expectation } | undefined;

      if (roll < 0.22) {
        const amount = rng.micros(1n, 4_000_000n);
        const op: Op = { kind: 'credit', userId, key: fresh('credit'), amount };
        this.credits.set(op.key, { userId, amount });
        w.available += amount;
        w.entries += 1;
        gained.set(userId, gained.get(userId)! + amount);
        planned = { op, expect: { ok: true } };
      } else if (roll < 0.5) {
        // Now and then exactly what is left, to test the boundary of `available >= amount`.
        const exact = rng.next() < 0.1 && budget.get(userId)! > 0n;
        const amount = exact ? budget.get(userId)! : rng.micros(1n, 2_500_000n);
        const op: Extract<Op, { kind: 'hold' }> = { kind: 'hold', userId, key: fresh('hold'), amount };
        touched.add(op.key);
        if (amount <= budget.get(userId)!) {
          budget.set(userId, budget.get(userId)! - amount);
          this.holds.set(op.key, { userId, amount, status: 'OPEN', captured: null });
          w.available -= amount;
          w.held += amount;
          w.entries += 1;
          w.holds += 1;
          planned = { op, expect: { ok: true, status: 'OPEN', captured: null } };
        } else {
          doomed.push({ op, userId }); // its amount is raised past any reachable balance below
          planned = { op, expect: { ok: false, code: 'INSUFFICIENT_FUNDS' } };
        }
      } else if (roll < 0.78) {
        const open = untouched([...this.holds]).filter(([, h]) => h.status === 'OPEN');
        if (open.length === 0) continue;
        const [holdKey, h] = rng.pick(open);
        touched.add(holdKey);
        const hw = this.wallets.get(h.userId)!;
        const giveBack = rng.next() < 0.6;
        const spent = giveBack ? 0n : rng.micros(1n, h.amount);
        const returned = h.amount - spent;
        hw.held -= h.amount;
        hw.available += returned;
        hw.entries += 1;
        gained.set(h.userId, gained.get(h.userId)! + returned);
        if (giveBack) {
          Object.assign(h, { status: 'RELEASED' });
          planned = { op: { kind: 'release', key: holdKey }, expect: { ok: true, status: 'RELEASED', captured: null } };
        } else {
          Object.assign(h, { status: 'CAPTURED', captured: spent });
          planned = { op: { kind: 'capture', key: holdKey, amount: spent }, expect: { ok: true, status: 'CAPTURED', captured: spent } };
        }
      } else if (roll < 0.96) {
        planned = this.planReplay(untouched);
      } else {
        planned = this.planMisuse(untouched);
      }
      if (!planned) continue;
      touched.add(planned.op.key); // later calls in this batch leave this key alone
      plan.push(planned);
      // Sometimes send the very same call again in the same batch: a concurrent retry.
      if (rng.next() < 0.15 && plan.length < size) plan.push(planned);
    }

    for (const { op, userId } of doomed) {
      const reachable = startAvailable.get(userId)! + gained.get(userId)!;
      op.amount = reachable + (rng.next() < 0.5 ? 1n : rng.micros(1n, 1_000_000n)); // often one micro too many

    }
    return plan;
  }

  /** Replays of earlier, finished calls: they return the original outcome and change nothing. */
  private planReplay(untouched: <T>(entries: [string, T][]) => [string, T][]): { op: Op; expect: Expectation } | undefined {
    const { rng } = this;
    if (rng.next() < 0.3) {
      const credits = untouched([...this.credits]);
      if (credits.length === 0) return undefined;
      const [creditKey, c] = rng.pick(credits);
      return { op: { kind: 'credit', userId: c.userId, key: creditKey, amount: c.amount }, expect: { ok: true } };
    }
    const holds = untouched([...this.holds]);
    if (holds.length === 0) return undefined;
    const [holdKey, h] = rng.pick(holds);
    const same = { ok: true as const, status: h.status, captured: h.captured };
    const settled = { ok: false as const, code: 'HOLD_ALREADY_SETTLED' };
    const r = rng.next();
    if (r < 0.4 || h.status === 'OPEN') return { op: { kind: 'hold', userId: h.userId, key: holdKey, amount: h.amount }, expect: same };
    if (h.status === 'CAPTURED') {
      return r < 0.75 ? { op: { kind: 'capture', key: holdKey, amount: h.captured! }, expect: same } : { op: { kind: 'release', key: holdKey }, expect: settled };
    }
    return r < 0.75 ? { op: { kind: 'release', key: holdKey }, expect: same } : { op: { kind: 'capture', key: holdKey, amount: 1n }, expect: settled };
  }

  /** Calls that must be refused without effect. */
  private planMisuse(untouched: <T>(entries: [string, T][]) => [string, T][]): { op: Op; expect: Expectation } | undefined {
    const { rng } = this;
    const r = rng.next();
    if (r < 0.3) {
      const credits = untouched([...this.credits]);
      if (credits.length === 0) return undefined;
      const [creditKey, c] = rng.pick(credits);
      return { op: { kind: 'credit', userId: c.userId, key: creditKey, amount: c.amount + 1n }, expect: { ok: false, code: 'IDEMPOTENCY_KEY_REUSED' } };
    }
    if (r < 0.6) {
      const open = untouched([...this.holds]).filter(([, h]) => h.status === 'OPEN');
      if (open.length === 0) return undefined;
      const [holdKey, h] = rng.pick(open);
      return { op: { kind: 'capture', key: holdKey, amount: h.amount + rng.micros(1n, 100n) }, expect: { ok: false, code: 'INVALID_AMOUNT' } };
    }
    if (r < 0.8) return { op: { kind: 'release', key: `rnd:missing:${randomUUID()}` }, expect: { ok: false, code: 'HOLD_NOT_FOUND' } };
    const userId = rng.pick([...this.wallets.keys()]);
    return { op: { kind: 'hold', userId, key: `rnd:zero:${randomUUID()}`, amount: 0n }, expect: { ok: false, code: 'INVALID_AMOUNT' } };
  }

  /** Checks one result against the plan and remembers ids, so later replays must return the same ones. */
  check(op: Op, expectation: Expectation, result: PromiseSettledResult<HoldView | LedgerEntryView>): void {
    const where = `${op.kind} ${op.key}`;
    if (!expectation.ok) {
      expect([where, codeOf(result)]).toEqual([where, expectation.code]);
      return;
    }
    if (result.status === 'rejected') throw new Error(`${where}: expected success, got ${codeOf(result)}`);
    if (op.kind === 'credit') {
      const entry = result.value as LedgerEntryView;
      const credit = this.credits.get(op.key)!;
      credit.entryId ??= entry.id;
      expect([where, entry.id, entry.availableDeltaMicros]).toEqual([where, credit.entryId, credit.amount]);
      return;
    }
    const hold = result.value as HoldView;
    const model = this.holds.get(op.key)!;
    model.holdId ??= hold.holdId;
    expect([where, hold.holdId, hold.amountMicros, hold.status, hold.capturedMicros]).toEqual([
      where,
      model.holdId,
      model.amount,
      expectation.status,
      expectation.captured,
    ]);
  }
}

function run(op: Op): Promise<HoldView | LedgerEntryView> {
  switch (op.kind) {
    case 'credit':
      return wallet.credit({ userId: op.userId, amountMicros: op.amount, idempotencyKey: op.key, memo: 'random' });
    case 'hold':
      return wallet.hold({ userId: op.userId, key: op.key, amountMicros: op.amount });
    case 'capture':
      return wallet.capture({ key: op.key, amountMicros: op.amount });
    case 'release':
      return wallet.release({ key: op.key });
  }
}

describe('randomized run against an in-memory model', () => {
  it.each([20261125, 7])('seed %i: 2,000 operations over 5 wallets, sequential then in concurrent batches', async (seed) => {
    const users = await Promise.all(Array.from({ length: 5 }, () => newUser()));
    const rng = prng(seed);
    const model = new WalletModel(users, rng);

    let done = 0;
    const counts: Record<string, number> = {};
    while (done < 2_000) {
      // The first quarter one call at a time, then batches of up to 12 concurrent calls.
      const size = done < 500 ? 1 : rng.int(2, 12);
      const batch = model.planBatch(size);
      const results = await Promise.allSettled(batch.map(({ op }) => run(op)));
      batch.forEach(({ op, expect: expectation }, i) => {
        model.check(op, expectation, results[i]);
        const label = `${op.kind}:${codeOf(results[i])}`;
        counts[label] = (counts[label] ?? 0) + 1;
      });
      done += batch.length;
    }

    // The run exercised every path, not just the happy one.
    for (const label of ['credit:OK', 'hold:OK', 'hold:INSUFFICIENT_FUNDS', 'capture:OK', 'release:OK', 'capture:HOLD_ALREADY_SETTLED', 'release:HOLD_ALREADY_SETTLED', 'credit:IDEMPOTENCY_KEY_REUSED', 'capture:INVALID_AMOUNT']) {
      expect([label, (counts[label] ?? 0) > 0]).toEqual([label, true]);
    }

    for (const userId of users) {
      const expected = model.wallets.get(userId)!;
      expect(await footprint(userId)).toEqual({ availableMicros: expected.available, heldMicros: expected.held, entries: expected.entries, holds: expected.holds });
    }
    const walletIds = new Set(await Promise.all(users.map(async (u) => (await wallet.getWallet(u)).walletId)));
    // The DB-wide check, narrowed to our wallets (other suites share this database).
    expect((await wallet.checkInvariants()).filter((v) => v.walletId === undefined || walletIds.has(v.walletId))).toEqual([]);
  });
});
