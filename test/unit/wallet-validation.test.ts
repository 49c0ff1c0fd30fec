/**
 * Bad input is refused before the wallet touches the database: the service gets a database that
 * fails the test on any use.
 */
import type { Db } from '../../src/db/client';
import { httpStatus } from '../../src/http/middleware/errors';
import { AppError } from '../../src/lib/errors';
import { WalletService } from '../../src/wallet';

const untouchable = new Proxy({} as Db, {
  get(_target, property) {
    throw new Error(`the database was used (${String(property)}) for input that should have been refused`);
  },
});
const wallet = new WalletService({ db: untouchable });
const userId = '6f1c2f9e-0000-4000-8000-000000000001';

async function refusal(call: () => Promise<unknown>): Promise<{ code: string; status: number }> {
  const error = await call().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  const { code } = error as AppError;
  return { code, status: httpStatus[code] };
}

describe('wallet input validation', () => {
  it.each([0n, -1n, -1_000_000n, 5, '5', null, undefined])('refuses the amount %p everywhere', async (amount) => {
    const amountMicros = amount as bigint;
    const invalid = { code: 'INVALID_AMOUNT', status: 400 };
    expect(await refusal(() => wallet.credit({ userId, amountMicros, idempotencyKey: 'k', memo: '' }))).toEqual(invalid);
    expect(await refusal(() => wallet.hold({ userId, key: 'k', amountMicros }))).toEqual(invalid);
    expect(await refusal(() => wallet.capture({ key: 'k', amountMicros }))).toEqual(invalid);
  });

  it('refuses empty keys', async () => {
    const invalid = { code: 'INVALID_IDEMPOTENCY_KEY', status: 400 };
    expect(await refusal(() => wallet.credit({ userId, amountMicros: 1n, idempotencyKey: '', memo: '' }))).toEqual(invalid);
    expect(await refusal(() => wallet.hold({ userId, key: '  ', amountMicros: 1n }))).toEqual(invalid);
    expect(await refusal(() => wallet.capture({ key: '', amountMicros: 1n }))).toEqual(invalid);
    expect(await refusal(() => wallet.release({ key: '' }))).toEqual(invalid);
  });

  it('refuses an actor id that is not a UUID', async () => {
    expect(await refusal(() => wallet.credit({ userId, amountMicros: 1n, idempotencyKey: 'k', memo: '', actorId: 'admin' }))).toEqual({
      code: 'INVALID_ACTOR_ID',
      status: 400,
    });
  });

  it('answers ids that are not UUIDs without a query', async () => {
    expect(await refusal(() => wallet.getWallet('42'))).toEqual({ code: 'WALLET_NOT_FOUND', status: 404 });
    expect(await refusal(() => wallet.ensureWallet('42'))).toEqual({ code: 'USER_NOT_FOUND', status: 404 });
    expect(await wallet.checkInvariants('42')).toEqual([]);
  });

  it('refuses page sizes outside 1..500', async () => {
    for (const limit of [0, -5, 2.5, 501, Number.NaN]) {
      expect(await refusal(() => wallet.listLedger(userId, { limit }))).toEqual({ code: 'INVALID_LIMIT', status: 400 });
    }
  });
});
