import { randomUUID } from 'node:crypto';
import { createDb, type Db } from '../../src/db/client';
import { WalletService } from '../../src/wallet';

/**
 * Debits (refunds and chargebacks of top-ups) against the real database: never below zero,
 * never the money on hold, once per key, and the ledger still explains every balance.
 */
let db: Db;
let wallet: WalletService;

beforeAll(() => {
  db = createDb(process.env.DATABASE_URL!, { max: 20 });
  wallet = new WalletService({ db });
});
afterAll(() => db.$disconnect());

async function newUser(creditMicros: bigint): Promise<string> {
  const user = await db.user.create({ data: { email: `debit-${randomUUID()}@test.simgate`, passwordHash: 'x' } });
  await wallet.ensureWallet(user.id);
  await wallet.credit({ userId: user.id, amountMicros: creditMicros, idempotencyKey: `seed:${randomUUID()}`, memo: 'seed' });
  return user.id;
}

describe('wallet debit', () => {
  it('takes what is available, reports the rest as the shortfall, and a replay returns the first result', async () => {
    const userId = await newUser(3_000_000n);
    const key = `debit:${randomUUID()}`;
    const first = await wallet.takeBack({ userId, amountMicros: 5_000_000n, idempotencyKey: key, memo: 'Chargeback' });
    expect(first).toMatchObject({ debitedMicros: 3_000_000n, shortfallMicros: 2_000_000n });
    expect(first.entry).toMatchObject({ kind: 'DEBIT', availableDeltaMicros: -3_000_000n, heldDeltaMicros: 0n });
    const again = await wallet.takeBack({ userId, amountMicros: 5_000_000n, idempotencyKey: key, memo: 'Chargeback' });
    expect(again).toMatchObject({ debitedMicros: 3_000_000n, shortfallMicros: 2_000_000n });
    expect(again.entry.id).toBe(first.entry.id);
    expect((await wallet.getWallet(userId)).availableMicros).toBe(0n);
    expect(await wallet.checkInvariants(userId)).toEqual([]);
  });

  it('never touches money on hold, and an empty wallet records a zero debit', async () => {
    const userId = await newUser(2_000_000n);
    await wallet.hold({ userId, key: `hold:${randomUUID()}`, amountMicros: 2_000_000n });
    const result = await wallet.takeBack({ userId, amountMicros: 1_000_000n, idempotencyKey: `debit:${randomUUID()}`, memo: 'Refund' });
    expect(result).toMatchObject({ debitedMicros: 0n, shortfallMicros: 1_000_000n });
    expect(await wallet.getWallet(userId)).toMatchObject({ availableMicros: 0n, heldMicros: 2_000_000n });
    expect(await wallet.checkInvariants(userId)).toEqual([]);
  });

  it('concurrent debits and holds never take the balance below zero', async () => {
    const userId = await newUser(10_000_000n);
    const debits = Array.from({ length: 8 }, () => wallet.takeBack({ userId, amountMicros: 2_000_000n, idempotencyKey: `debit:${randomUUID()}`, memo: 'Refund' }));
    const holds = Array.from({ length: 4 }, () => wallet.hold({ userId, key: `hold:${randomUUID()}`, amountMicros: 1_000_000n }).then(() => 1_000_000n, () => 0n));
    const [debited, held] = await Promise.all([Promise.all(debits), Promise.all(holds)]);
    const taken = debited.reduce((sum, d) => sum + d.debitedMicros, 0n) + held.reduce((sum, h) => sum + h, 0n);
    expect(taken).toBe(10_000_000n);
    expect((await wallet.getWallet(userId)).availableMicros).toBe(0n);
    expect(await wallet.checkInvariants(userId)).toEqual([]);
  });

  it('refuses a key already used for a credit', async () => {
    const userId = await newUser(1_000_000n);
    const key = `credit:${randomUUID()}`;
    await wallet.credit({ userId, amountMicros: 1_000_000n, idempotencyKey: key, memo: 'x' });
    await expect(wallet.takeBack({ userId, amountMicros: 1_000_000n, idempotencyKey: key, memo: 'x' })).rejects.toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
  });
});
