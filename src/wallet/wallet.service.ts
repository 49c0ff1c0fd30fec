/**
 * The wallet: SimGate's money core (DESIGN.md "Money").
 *
 * Rules every method here follows, so a reader can check them one by one:
 *
 * - Amounts are bigint micro-dollars. JavaScript never computes a new balance: every balance
 *   change is one conditional SQL UPDATE (`SET available = available - $a … WHERE available >= $a`),
 *   and "did it apply?" is answered by the number of rows it touched.
 * - Every mutation is ONE transaction (READ COMMITTED) that writes the balance change, the hold
 *   row (if any) and exactly one append-only ledger entry. A refusal throws inside the
 *   transaction, so nothing of it is written.
 * - Every mutation is idempotent by a unique key: credits by the caller's key, holds by the hold
 *   key, and the hold's ledger entries by `<key>:hold|:capture|:release`. The key is claimed
 *   FIRST with `INSERT … ON CONFLICT DO NOTHING RETURNING` (or a conditional UPDATE for
 *   settlements). When the claim returns no row the key already belongs to an earlier call —
 *   possibly a concurrent one that committed a moment ago, since under READ COMMITTED the
 *   INSERT waits for it — and we read and return that call's result instead of applying again.
 *   No unique-violation error is ever part of the normal flow, so the transaction never aborts
 *   on a replay.
 * - Lock order is always: the key (hold row / ledger key), then the wallet row. Different keys
 *   only meet at the wallet row, so concurrent calls queue there and cannot deadlock.
 *
 * Refusals are AppErrors with stable codes:
 *   400 INVALID_AMOUNT · INVALID_IDEMPOTENCY_KEY · INVALID_LIMIT · INVALID_ACTOR_ID
 *   402 INSUFFICIENT_FUNDS
 *   404 USER_NOT_FOUND · WALLET_NOT_FOUND · HOLD_NOT_FOUND
 *   409 HOLD_ALREADY_SETTLED · 422 IDEMPOTENCY_KEY_REUSED
 *   500 LEDGER_INCONSISTENT (a broken invariant detected mid-transaction; never expected)
 *   503 HOLD_BUSY (a settlement kept racing a concurrent change; retryable, practically unreachable)
 */
import { Prisma, type Db } from '../db/client';
import type { Hold, HoldStatus, LedgerEntry, LedgerKind } from '../generated/prisma/client';
import { AppError } from '../lib/errors';
import { metrics } from '../lib/metrics';

type Tx = Prisma.TransactionClient;

// ─── Public types ──────────────────────────────────────────────────────────────────────────────

export interface WalletSnapshot {
  walletId: string;
  userId: string;
  availableMicros: bigint;
  heldMicros: bigint;
}

export interface LedgerEntryView {
  id: bigint;
  walletId: string;
  idempotencyKey: string;
  kind: LedgerKind;
  availableDeltaMicros: bigint;
  heldDeltaMicros: bigint;
  holdId: string | null;
  memo: string;
  actorId: string | null;
  createdAt: Date;
}

export interface HoldView {
  holdId: string;
  walletId: string;
  key: string;
  /** What was held. */
  amountMicros: bigint;
  /** What was spent; set only when status is CAPTURED. */
  capturedMicros: bigint | null;
  status: HoldStatus;
  createdAt: Date;
  settledAt: Date | null;
}

export interface CreditInput {
  userId: string;
  amountMicros: bigint;
  /** The caller's key: a retried credit with the same key returns the first entry. */
  idempotencyKey: string;
  memo: string;
  /** The admin (or system user) who credited, when there is one. */
  actorId?: string;
}

export interface DebitInput {
  userId: string;
  /** What should be taken back; at most what is available is (the rest is the debit's shortfall). */
  amountMicros: bigint;
  idempotencyKey: string;
  memo: string;
  actorId?: string;
}

export interface DebitResult {
  entry: LedgerEntryView;
  debitedMicros: bigint;
  /** What the wallet could not give: the caller records it (an incident), the balance never goes below zero. */
  shortfallMicros: bigint;
}

export interface HoldInput {
  userId: string;
  /** The hold's key, e.g. the activation's workflow id. */
  key: string;
  amountMicros: bigint;
  memo?: string;
}

export interface CaptureInput {
  key: string;
  /** What is spent: 0 < amount ≤ the hold's amount; the rest returns to available. */
  amountMicros: bigint;
}

export interface ReleaseInput {
  key: string;
}

export interface ListLedgerOptions {
  limit: number;
  /** Return entries older than this id (the last id of the previous page). */
  beforeId?: bigint;
}

export const INVARIANT_RULES = [
  'wallet_total_matches_ledger', // available + held = Σ(available_delta + held_delta)
  'wallet_available_matches_ledger', // available = Σ available_delta
  'wallet_held_matches_ledger', // held = Σ held_delta
  'wallet_held_matches_open_holds', // held = Σ amount of OPEN holds
  'wallet_not_negative', // available ≥ 0 and held ≥ 0
  'ledger_entry_shape', // CREDIT: +available only, no hold; DEBIT: −available only (0 when nothing was left), no hold; HOLD/CAPTURE/RELEASE: linked to a hold
  'hold_has_one_hold_entry',
  'hold_settlement_entries', // OPEN: none; CAPTURED: one CAPTURE, no RELEASE; RELEASED: the reverse
  'hold_entries_match_hold', // entry wallet and deltas agree with the hold's amount / captured amount
  'hold_captured_amount', // CAPTURED: 0 < captured ≤ amount; otherwise NULL
  'finished_activation_left_no_hold', // no OPEN hold keyed by a COMPLETED/CANCELLED/EXPIRED/FAILED activation
] as const;

export type InvariantRule = (typeof INVARIANT_RULES)[number];

export interface InvariantViolation {
  walletId?: string;
  rule: InvariantRule;
  detail: string;
}

export interface WalletServiceDeps {
  db: Db;
  /** Interactive-transaction limits (ms). maxWait: waiting for a pooled connection; timeout: the whole transaction. */
  transaction?: { maxWait?: number; timeout?: number };
}

export const MAX_LEDGER_PAGE = 500;

// ─── The service ───────────────────────────────────────────────────────────────────────────────

export class WalletService {
  private readonly db: Db;
  private readonly txOptions: { maxWait: number; timeout: number; isolationLevel?: Prisma.TransactionIsolationLevel };
  /** txOptions as this database needs them (see transaction()); settled by the first transaction. */
  private effectiveTxOptions: Promise<WalletService['txOptions']> | null = null;

  constructor({ db, transaction }: WalletServiceDeps) {
    this.db = db;
    this.txOptions = {
      maxWait: transaction?.maxWait ?? 10_000,
      timeout: transaction?.timeout ?? 15_000,
      // The replay logic relies on READ COMMITTED: each statement sees rows committed before it
      // started, so after a claim finds the key taken, the next SELECT sees the winner's row.
      isolationLevel: Prisma.TransactionIsolationLevel.ReadCommitted,
    };
  }

  /** Creates the user's wallet when missing (safe to call concurrently) and returns it. */
  async ensureWallet(userId: string): Promise<WalletSnapshot> {
    if (!isUuid(userId)) throw new AppError('USER_NOT_FOUND', 'User not found');
    await this.db.$executeRaw`
      INSERT INTO wallets (id, user_id)
      SELECT gen_random_uuid(), u.id FROM users u WHERE u.id = ${userId}::uuid
      ON CONFLICT (user_id) DO NOTHING`;
    const wallet = await this.db.wallet.findUnique({ where: { userId } });
    if (!wallet) throw new AppError('USER_NOT_FOUND', 'User not found');
    return toSnapshot(wallet);
  }

  async getWallet(userId: string): Promise<WalletSnapshot> {
    return toSnapshot(await findWalletOrThrow(this.db, userId));
  }

  /** Adds money to available. A replayed key returns the original entry and changes nothing. */
  async credit(input: CreditInput): Promise<LedgerEntryView> {
    const { userId, amount, key, memo, actorId } = checkedMovement(input);

    return this.transaction(async (tx) => {
      const wallet = await findWalletOrThrow(tx, userId);

      // 1. Claim the key by writing the entry; no row back means the key is already taken.
      const [entry] = await tx.$queryRaw<LedgerEntry[]>`
        INSERT INTO ledger_entries (wallet_id, idempotency_key, kind, available_delta, held_delta, memo, actor_id)
        VALUES (${wallet.id}::uuid, ${key}, 'CREDIT', ${amount}, 0, ${memo}, ${actorId}::uuid)
        ON CONFLICT (idempotency_key) DO NOTHING
        RETURNING ${LEDGER_COLUMNS}`;

      if (!entry) {
        const existing = await tx.ledgerEntry.findUniqueOrThrow({ where: { idempotencyKey: key } });
        if (existing.kind !== 'CREDIT' || existing.walletId !== wallet.id || existing.availableDelta !== amount) {
          throw new AppError('IDEMPOTENCY_KEY_REUSED', 'This idempotency key was already used for a different operation', {
            idempotencyKey: key,
          });
        }
        return toEntryView(existing);
      }

      // 2. Apply it.
      const updated = await tx.$executeRaw`
        UPDATE wallets SET available = available + ${amount}, updated_at = now()
        WHERE id = ${wallet.id}::uuid`;
      assertOneRow(updated, 'credit: wallet row vanished');
      return toEntryView(entry);
    });
  }

  /**
   * Takes money out of available (an admin's correction), never below zero: 402 and nothing
   * written when the balance is short. Idempotent by key like a credit.
   */
  async debit(input: CreditInput): Promise<LedgerEntryView> {
    const { userId, amount, key, memo, actorId } = checkedMovement(input);

    return this.transaction(async (tx) => {
      const wallet = await findWalletOrThrow(tx, userId);
      const [entry] = await tx.$queryRaw<LedgerEntry[]>`
        INSERT INTO ledger_entries (wallet_id, idempotency_key, kind, available_delta, held_delta, memo, actor_id)
        VALUES (${wallet.id}::uuid, ${key}, 'DEBIT', ${-amount}, 0, ${memo}, ${actorId}::uuid)
        ON CONFLICT (idempotency_key) DO NOTHING
        RETURNING ${LEDGER_COLUMNS}`;

      if (!entry) {
        const existing = await tx.ledgerEntry.findUniqueOrThrow({ where: { idempotencyKey: key } });
        if (existing.kind !== 'DEBIT' || existing.walletId !== wallet.id || existing.availableDelta !== -amount) {
          throw new AppError('IDEMPOTENCY_KEY_REUSED', 'This idempotency key was already used for a different operation', { idempotencyKey: key });
        }
        return toEntryView(existing);
      }

      // Throwing rolls back the entry written above.
      const moved = await tx.$executeRaw`
        UPDATE wallets SET available = available - ${amount}, updated_at = now()
        WHERE id = ${wallet.id}::uuid AND available >= ${amount}`;
      if (moved === 0) throw new AppError('INSUFFICIENT_FUNDS', 'The balance is lower than this debit', { requiredMicros: amount.toString() });
      return toEntryView(entry);
    });
  }

  /** The hold keyed `key` (an activation id), if any. */
  async findHold(key: string): Promise<HoldView | null> {
    const hold = await this.db.hold.findUnique({ where: { key } });
    return hold ? toHoldView(hold) : null;
  }

  /** A hold and its ledger entries (hold, capture or release), oldest first: an activation's money movements. */
  async ledgerOfHold(key: string): Promise<{ hold: HoldView | null; entries: LedgerEntryView[] }> {
    const hold = await this.db.hold.findUnique({ where: { key }, include: { entries: { orderBy: { id: 'asc' } } } });
    return { hold: hold ? toHoldView(hold) : null, entries: (hold?.entries ?? []).map(toEntryView) };
  }

  /**
   * Takes back up to `amountMicros` from available (a refund or a chargeback of a top-up): what
   * is there is taken, the rest is reported as the shortfall, never a negative balance. Money on
   * hold stays: it belongs to a purchase in flight. A replayed key returns the first result.
   */
  async takeBack(input: DebitInput): Promise<DebitResult> {
    const { userId, amount, key, memo, actorId } = checkedMovement(input);

    return this.transaction(async (tx) => {
      const wallet = await findWalletOrThrow(tx, userId);
      // 1. Claim the key with a zero entry; its delta is set once the wallet row says what it can give.
      const [claimed] = await tx.$queryRaw<LedgerEntry[]>`
        INSERT INTO ledger_entries (wallet_id, idempotency_key, kind, available_delta, held_delta, memo, actor_id)
        VALUES (${wallet.id}::uuid, ${key}, 'DEBIT', 0, 0, ${memo}, ${actorId}::uuid)
        ON CONFLICT (idempotency_key) DO NOTHING
        RETURNING ${LEDGER_COLUMNS}`;
      if (!claimed) {
        const existing = await tx.ledgerEntry.findUniqueOrThrow({ where: { idempotencyKey: key } });
        if (existing.kind !== 'DEBIT' || existing.walletId !== wallet.id || -existing.availableDelta > amount) {
          throw new AppError('IDEMPOTENCY_KEY_REUSED', 'This idempotency key was already used for a different operation', { idempotencyKey: key });
        }
        const debited = -existing.availableDelta;
        return { entry: toEntryView(existing), debitedMicros: debited, shortfallMicros: amount - debited };
      }
      // 2. Take what is there in one statement. The row lock orders concurrent debits and holds; it
      // is NO KEY UPDATE, the lock an UPDATE takes, because the entry above already holds KEY SHARE
      // on the row (its foreign key) and a FOR UPDATE would deadlock two debits upgrading at once.
      const [taken] = await tx.$queryRaw<{ taken: bigint }[]>`
        WITH before AS (SELECT id, available FROM wallets WHERE id = ${wallet.id}::uuid FOR NO KEY UPDATE)
        UPDATE wallets w SET available = w.available - LEAST(before.available, ${amount}), updated_at = now()
        FROM before WHERE w.id = before.id
        RETURNING LEAST(before.available, ${amount})::bigint AS taken`;
      if (!taken) throw new AppError('LEDGER_INCONSISTENT', 'Internal error', { what: 'debit: wallet row vanished' });
      const [entry] = await tx.$queryRaw<LedgerEntry[]>`
        UPDATE ledger_entries SET available_delta = ${-taken.taken} WHERE id = ${claimed.id}
        RETURNING ${LEDGER_COLUMNS}`;
      return { entry: toEntryView(entry), debitedMicros: taken.taken, shortfallMicros: amount - taken.taken };
    });
  }

  /**
   * Moves `amountMicros` from available to held under `key`. Insufficient funds → 402 and nothing
   * written. A replayed key returns the existing hold, whatever its status now, moving nothing.
   */
  async hold(input: HoldInput): Promise<HoldView> {
    const { userId, key, amountMicros: amount } = input;
    assertPositiveAmount(amount);
    assertKey(key);

    return this.transaction(async (tx) => {
      // 1. Claim the key on the user's wallet: one statement, which inserts nothing when the key
      //    is taken or the user has no wallet (told apart below, off the common path).
      const [hold] = isUuid(userId)
        ? await tx.$queryRaw<Hold[]>`
            INSERT INTO holds (id, wallet_id, key, amount, status)
            SELECT gen_random_uuid(), w.id, ${key}, ${amount}, 'OPEN' FROM wallets w WHERE w.user_id = ${userId}::uuid
            ON CONFLICT (key) DO NOTHING
            RETURNING ${HOLD_COLUMNS}`
        : [];

      if (!hold) {
        const wallet = await findWalletOrThrow(tx, userId);
        const existing = await tx.hold.findUniqueOrThrow({ where: { key } });
        if (existing.walletId !== wallet.id || existing.amount !== amount) {
          throw new AppError('IDEMPOTENCY_KEY_REUSED', 'This hold key was already used with a different wallet or amount', {
            key,
          });
        }
        return toHoldView(existing);
      }

      // 2. Move the money, only if it is there. Throwing rolls back the hold row from step 1.
      const moved = await tx.$executeRaw`
        UPDATE wallets SET available = available - ${amount}, held = held + ${amount}, updated_at = now()
        WHERE id = ${hold.walletId}::uuid AND available >= ${amount}`;
      if (moved === 0) {
        throw new AppError('INSUFFICIENT_FUNDS', 'Insufficient funds', { requiredMicros: amount.toString() });
      }

      // 3. Record it.
      await recordHoldStep(tx, {
        walletId: hold.walletId,
        idempotencyKey: `${key}:hold`,
        kind: 'HOLD',
        availableDelta: -amount,
        heldDelta: amount,
        holdId: hold.id,
        memo: input.memo ?? '',
      });
      return toHoldView(hold);
    });
  }

  /**
   * Settles an OPEN hold as CAPTURED: `amountMicros` is spent, the rest of the hold returns to
   * available. Replaying the same capture returns it; a released hold → 409 HOLD_ALREADY_SETTLED.
   */
  async capture({ key, amountMicros: amount }: CaptureInput): Promise<HoldView> {
    assertPositiveAmount(amount);
    assertKey(key);
    return this.settleOnce(key, { status: 'CAPTURED', capturedMicros: amount });
  }

  /** Settles an OPEN hold as RELEASED: all of it returns to available. A captured hold → 409. */
  async release({ key }: ReleaseInput): Promise<HoldView> {
    assertKey(key);
    return this.settleOnce(key, { status: 'RELEASED' });
  }

  /** settle() in a transaction; counted in the metrics once it committed, and only when it moved money (not a replay). */
  private async settleOnce(key: string, outcome: Settlement): Promise<HoldView> {
    let applied = false;
    const view = await this.transaction((tx) => {
      applied = false;
      return this.settle(tx, key, outcome, () => (applied = true));
    });
    if (applied) metrics.holdSettled(view);
    return view;
  }

  /** Newest first; page with `beforeId` = the last id of the previous page. */
  async listLedger(userId: string, { limit, beforeId }: ListLedgerOptions): Promise<LedgerEntryView[]> {
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LEDGER_PAGE) {
      throw new AppError('INVALID_LIMIT', `limit must be an integer from 1 to ${MAX_LEDGER_PAGE}`);
    }
    const wallet = await findWalletOrThrow(this.db, userId);
    const entries = await this.db.ledgerEntry.findMany({
      where: { walletId: wallet.id, ...(beforeId !== undefined ? { id: { lt: beforeId } } : {}) },
      orderBy: { id: 'desc' },
      take: limit,
    });
    return entries.map(toEntryView);
  }

  /**
   * Every broken money invariant, computed in SQL over all wallets (or the user's one). Empty
   * when all is well. Read-only; run it from tests, admin tools and monitoring.
   */
  async checkInvariants(userId?: string): Promise<InvariantViolation[]> {
    if (userId !== undefined && !isUuid(userId)) return [];
    const scope = userId === undefined ? Prisma.empty : Prisma.sql`WHERE user_id = ${userId}::uuid`;
    const rows = await this.db.$queryRaw<{ walletId: string; rule: InvariantRule; detail: string }[]>(invariantsQuery(scope));
    return rows.map((row) => ({ walletId: row.walletId, rule: row.rule, detail: row.detail }));
  }

  // ─── Internals ───────────────────────────────────────────────────────────────────────────────

  /**
   * Every transaction runs READ COMMITTED. Asking for it costs a statement per transaction (the
   * driver sends SET TRANSACTION after BEGIN); when the database's default already is READ
   * COMMITTED — a setting of the server, database or role, the same on every connection we open —
   * it is not asked for. Checked once per process.
   */
  private async transaction<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    this.effectiveTxOptions ??= this.db
      .$queryRaw<{ level: string }[]>`SELECT current_setting('default_transaction_isolation') AS level`
      .then(([row]) => (row?.level === 'read committed' ? { ...this.txOptions, isolationLevel: undefined } : this.txOptions))
      .catch((error: unknown) => {
        this.effectiveTxOptions = null; // the database is unreachable: ask again next time
        throw error;
      });
    return this.db.$transaction(work, await this.effectiveTxOptions);
  }

  /**
   * Capture and release share one shape: claim the settlement with one conditional UPDATE on the
   * hold; if it matched, move the money and write the entry; if not, explain why from the
   * hold's current state (replay, refusal, or not found).
   */
  private async settle(tx: Tx, key: string, outcome: Settlement, onApplied: () => void): Promise<HoldView> {
    for (let attempt = 1; attempt <= MAX_SETTLE_ATTEMPTS; attempt++) {
      const [hold] = await this.claimSettlement(tx, key, outcome);
      if (hold) {
        const view = await this.applySettlement(tx, hold, outcome);
        onApplied();
        return view;
      }

      const current = await tx.hold.findUnique({ where: { key } });
      if (!current) throw new AppError('HOLD_NOT_FOUND', 'Hold not found');
      if (current.status !== 'OPEN') return replayOrRefuse(current, outcome);
      if (outcome.status === 'CAPTURED' && outcome.capturedMicros > current.amount) {
        throw new AppError('INVALID_AMOUNT', 'Capture amount exceeds the held amount', {
          heldMicros: current.amount.toString(),
        });
      }
      // OPEN and settleable, yet the UPDATE missed it: the hold was committed by a concurrent
      // hold() after our UPDATE took its snapshot. Claim again; now it is visible. This repeats
      // at most once in practice: a committed OPEN hold changes only by being settled, and then
      // the next read sees it settled.
    }
    throw new AppError('HOLD_BUSY', 'The hold is being changed; retry', { key });
  }

  private claimSettlement(tx: Tx, key: string, outcome: Settlement): Promise<Hold[]> {
    if (outcome.status === 'CAPTURED') {
      return tx.$queryRaw<Hold[]>`
        UPDATE holds SET status = 'CAPTURED', captured_amount = ${outcome.capturedMicros}, settled_at = now()
        WHERE key = ${key} AND status = 'OPEN' AND amount >= ${outcome.capturedMicros}
        RETURNING ${HOLD_COLUMNS}`;
    }
    return tx.$queryRaw<Hold[]>`
      UPDATE holds SET status = 'RELEASED', settled_at = now()
      WHERE key = ${key} AND status = 'OPEN'
      RETURNING ${HOLD_COLUMNS}`;
  }

  private async applySettlement(tx: Tx, hold: Hold, outcome: Settlement): Promise<HoldView> {
    // The whole hold leaves `held`; what was not spent goes back to `available`.
    const spent = outcome.status === 'CAPTURED' ? outcome.capturedMicros : 0n;
    const returned = hold.amount - spent;
    const updated = await tx.$executeRaw`
      UPDATE wallets SET held = held - ${hold.amount}, available = available + ${returned}, updated_at = now()
      WHERE id = ${hold.walletId}::uuid AND held >= ${hold.amount}`;
    assertOneRow(updated, `settle ${hold.id}: wallet holds less than the open hold`);

    const step = outcome.status === 'CAPTURED' ? 'capture' : 'release';
    // The settlement carries the hold's memo ("Number for tg / ID"), so a ledger line says what it was for.
    const holdEntry = await tx.ledgerEntry.findUnique({ where: { idempotencyKey: `${hold.key}:hold` }, select: { memo: true, holdId: true } });
    await recordHoldStep(tx, {
      walletId: hold.walletId,
      idempotencyKey: `${hold.key}:${step}`,
      kind: outcome.status === 'CAPTURED' ? 'CAPTURE' : 'RELEASE',
      availableDelta: returned,
      heldDelta: -hold.amount,
      holdId: hold.id,
      memo: holdEntry?.holdId === hold.id ? holdEntry.memo : '',
    });
    return toHoldView(hold);
  }
}

// ─── Helpers ───────────────────────────────────────────────────────────────────────────────────

const MAX_SETTLE_ATTEMPTS = 3;

type Settlement = { status: 'CAPTURED'; capturedMicros: bigint } | { status: 'RELEASED' };

/** Column lists for RETURNING, aliased to the Prisma model's field names so one mapper serves both. */
const HOLD_COLUMNS = Prisma.sql`id, wallet_id AS "walletId", key, amount, captured_amount AS "capturedAmount",
  status, created_at AS "createdAt", settled_at AS "settledAt"`;
const LEDGER_COLUMNS = Prisma.sql`id, wallet_id AS "walletId", idempotency_key AS "idempotencyKey", kind,
  available_delta AS "availableDelta", held_delta AS "heldDelta", hold_id AS "holdId", memo,
  actor_id AS "actorId", created_at AS "createdAt"`;

/**
 * Writes a hold's ledger entry. Its key (`<key>:hold|:capture|:release`) cannot be taken by an
 * earlier step of the same hold — the hold row was claimed first — only by a credit that chose
 * such a key. That is a caller's mistake: refuse it (the transaction rolls back, nothing written).
 */
async function recordHoldStep(tx: Tx, data: Prisma.LedgerEntryUncheckedCreateInput): Promise<void> {
  try {
    await tx.ledgerEntry.create({ data });
  } catch (error) {
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
      throw new AppError('IDEMPOTENCY_KEY_REUSED', 'This ledger key is already used by another entry', {
        idempotencyKey: data.idempotencyKey,
      }, { cause: error });
    }
    throw error;
  }
}

/** The hold is already settled: the same settlement again is a replay, anything else a conflict. */
function replayOrRefuse(hold: Hold, outcome: Settlement): HoldView {
  const sameSettlement =
    hold.status === outcome.status &&
    (outcome.status === 'RELEASED' || hold.capturedAmount === outcome.capturedMicros);
  if (sameSettlement) return toHoldView(hold);
  throw new AppError('HOLD_ALREADY_SETTLED', `Hold is already ${hold.status.toLowerCase()}`, {
    status: hold.status,
    capturedMicros: hold.capturedAmount?.toString() ?? null,
  });
}

async function findWalletOrThrow(db: Db | Tx, userId: string) {
  const wallet = isUuid(userId) ? await db.wallet.findUnique({ where: { userId } }) : null;
  if (!wallet) throw new AppError('WALLET_NOT_FOUND', 'Wallet not found');
  return wallet;
}

/** The checks every keyed movement of available money makes before it touches the books (credit, debit, take back). */
function checkedMovement(input: { userId: string; amountMicros: bigint; idempotencyKey: string; memo: string; actorId?: string | null }) {
  assertPositiveAmount(input.amountMicros);
  assertKey(input.idempotencyKey);
  const actorId = input.actorId ?? null;
  if (actorId !== null && !isUuid(actorId)) throw new AppError('INVALID_ACTOR_ID', 'actorId must be a UUID');
  return { userId: input.userId, amount: input.amountMicros, key: input.idempotencyKey, memo: input.memo, actorId };
}

function assertPositiveAmount(amount: unknown): asserts amount is bigint {
  if (typeof amount !== 'bigint' || amount <= 0n) {
    throw new AppError('INVALID_AMOUNT', 'Amount must be a positive whole number of micro-dollars');
  }
}

function assertKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || key.trim() === '') {
    throw new AppError('INVALID_IDEMPOTENCY_KEY', 'A non-empty key is required');
  }
}

function assertOneRow(count: number, what: string): void {
  if (count !== 1) throw new AppError('LEDGER_INCONSISTENT', 'Internal error', { what });
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Ids are UUID columns; anything else cannot name a row (and would make PostgreSQL raise). */
const isUuid = (value: unknown): value is string => typeof value === 'string' && UUID.test(value);

function toSnapshot(wallet: { id: string; userId: string; available: bigint; held: bigint }): WalletSnapshot {
  return { walletId: wallet.id, userId: wallet.userId, availableMicros: wallet.available, heldMicros: wallet.held };
}

function toHoldView(hold: Hold): HoldView {
  return {
    holdId: hold.id,
    walletId: hold.walletId,
    key: hold.key,
    amountMicros: hold.amount,
    capturedMicros: hold.capturedAmount,
    status: hold.status,
    createdAt: hold.createdAt,
    settledAt: hold.settledAt,
  };
}

function toEntryView(entry: LedgerEntry): LedgerEntryView {
  return {
    id: entry.id,
    walletId: entry.walletId,
    idempotencyKey: entry.idempotencyKey,
    kind: entry.kind,
    availableDeltaMicros: entry.availableDelta,
    heldDeltaMicros: entry.heldDelta,
    holdId: entry.holdId,
    memo: entry.memo,
    actorId: entry.actorId,
    createdAt: entry.createdAt,
  };
}

/**
 * One query, one row per violation. `scope` restricts the wallets (and so their entries, holds
 * and the activations keyed by those holds). Sums are cast back to bigint: SUM(bigint) is numeric.
 */
function invariantsQuery(scope: Prisma.Sql): Prisma.Sql {
  return Prisma.sql`
    WITH scope AS (
      SELECT id, available, held FROM wallets ${scope}
    ),
    ledger AS (
      SELECT e.wallet_id, SUM(e.available_delta)::bigint AS available, SUM(e.held_delta)::bigint AS held
      FROM ledger_entries e JOIN scope s ON s.id = e.wallet_id
      GROUP BY e.wallet_id
    ),
    open_holds AS (
      SELECT h.wallet_id, SUM(h.amount)::bigint AS held
      FROM holds h JOIN scope s ON s.id = h.wallet_id
      WHERE h.status = 'OPEN'
      GROUP BY h.wallet_id
    ),
    balances AS (
      SELECT s.id AS wallet_id, s.available, s.held,
             COALESCE(l.available, 0) AS ledger_available,
             COALESCE(l.held, 0) AS ledger_held,
             COALESCE(o.held, 0) AS open_held
      FROM scope s
      LEFT JOIN ledger l ON l.wallet_id = s.id
      LEFT JOIN open_holds o ON o.wallet_id = s.id
    ),
    hold_entries AS (
      SELECT h.id, h.wallet_id, h.key, h.status, h.amount, h.captured_amount,
             COUNT(e.id) FILTER (WHERE e.kind = 'HOLD') AS hold_count,
             COUNT(e.id) FILTER (WHERE e.kind = 'CAPTURE') AS capture_count,
             COUNT(e.id) FILTER (WHERE e.kind = 'RELEASE') AS release_count,
             COUNT(e.id) FILTER (WHERE e.wallet_id <> h.wallet_id OR NOT CASE e.kind
               WHEN 'HOLD' THEN e.available_delta = -h.amount AND e.held_delta = h.amount
               WHEN 'CAPTURE' THEN e.held_delta = -h.amount
                                   AND e.available_delta IS NOT DISTINCT FROM h.amount - h.captured_amount
               WHEN 'RELEASE' THEN e.held_delta = -h.amount AND e.available_delta = h.amount
               ELSE false
             END) AS mismatched_count
      FROM holds h
      JOIN scope s ON s.id = h.wallet_id
      LEFT JOIN ledger_entries e ON e.hold_id = h.id
      GROUP BY h.id
    ),
    violations AS (
      SELECT wallet_id, 'wallet_total_matches_ledger' AS rule,
             format('available %s + held %s = %s, ledger sum %s', available, held, available + held,
                    ledger_available + ledger_held) AS detail
      FROM balances WHERE available + held <> ledger_available + ledger_held
      UNION ALL
      SELECT wallet_id, 'wallet_available_matches_ledger',
             format('available %s, ledger sum of available_delta %s', available, ledger_available)
      FROM balances WHERE available <> ledger_available
      UNION ALL
      SELECT wallet_id, 'wallet_held_matches_ledger',
             format('held %s, ledger sum of held_delta %s', held, ledger_held)
      FROM balances WHERE held <> ledger_held
      UNION ALL
      SELECT wallet_id, 'wallet_held_matches_open_holds',
             format('held %s, open holds total %s', held, open_held)
      FROM balances WHERE held <> open_held
      UNION ALL
      SELECT wallet_id, 'wallet_not_negative', format('available %s, held %s', available, held)
      FROM balances WHERE available < 0 OR held < 0
      UNION ALL
      SELECT e.wallet_id, 'ledger_entry_shape',
             format('entry %s (%s, key %s): available_delta %s, held_delta %s, hold %s',
                    e.id, e.kind, e.idempotency_key, e.available_delta, e.held_delta, COALESCE(e.hold_id::text, 'none'))
      FROM ledger_entries e JOIN scope s ON s.id = e.wallet_id
      WHERE CASE e.kind
              WHEN 'CREDIT' THEN NOT (e.available_delta > 0 AND e.held_delta = 0 AND e.hold_id IS NULL)
              WHEN 'DEBIT' THEN NOT (e.available_delta <= 0 AND e.held_delta = 0 AND e.hold_id IS NULL)
              ELSE e.hold_id IS NULL
            END
      UNION ALL
      SELECT wallet_id, 'hold_has_one_hold_entry', format('hold %s (key %s) has %s HOLD entries', id, key, hold_count)
      FROM hold_entries WHERE hold_count <> 1
      UNION ALL
      SELECT wallet_id, 'hold_settlement_entries',
             format('hold %s (key %s) is %s with %s CAPTURE and %s RELEASE entries', id, key, status, capture_count, release_count)
      FROM hold_entries
      WHERE NOT CASE status
                  WHEN 'OPEN' THEN capture_count = 0 AND release_count = 0
                  WHEN 'CAPTURED' THEN capture_count = 1 AND release_count = 0
                  WHEN 'RELEASED' THEN release_count = 1 AND capture_count = 0
                END
      UNION ALL
      SELECT wallet_id, 'hold_entries_match_hold',
             format('hold %s (key %s, amount %s, captured %s) has %s entries whose wallet or deltas disagree',
                    id, key, amount, COALESCE(captured_amount::text, 'none'), mismatched_count)
      FROM hold_entries WHERE mismatched_count > 0
      UNION ALL
      SELECT wallet_id, 'hold_captured_amount',
             format('hold %s (key %s) is %s, amount %s, captured %s', id, key, status, amount, COALESCE(captured_amount::text, 'none'))
      FROM hold_entries
      WHERE CASE status
              WHEN 'CAPTURED' THEN captured_amount IS NULL OR captured_amount <= 0 OR captured_amount > amount
              ELSE captured_amount IS NOT NULL
            END
      UNION ALL
      SELECT h.wallet_id, 'finished_activation_left_no_hold',
             format('activation %s is %s but hold %s (%s micros) is still OPEN', a.id, a.status, h.id, h.amount)
      FROM activations a
      JOIN holds h ON h.key = a.id
      JOIN scope s ON s.id = h.wallet_id
      WHERE h.status = 'OPEN' AND a.status IN ('COMPLETED', 'CANCELLED', 'EXPIRED', 'FAILED')
    )
    SELECT wallet_id::text AS "walletId", rule, detail FROM violations ORDER BY rule, wallet_id, detail`;
}
