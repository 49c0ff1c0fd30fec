import type { Db, Prisma } from '../db/client';
import type { Actor, AuditLog } from '../lib/audit';
import { AppError } from '../lib/errors';
import type { LedgerEntryView, WalletService, WalletSnapshot } from '../wallet';

export interface AdminUserView {
  id: string;
  email: string;
  role: string;
  disabled: boolean;
  availableMicros: string;
  heldMicros: string;
  createdAt: string;
}

/** Users as admins see and manage them (/api/admin/users, /api/admin/wallets). */
export class UserAdminService {
  constructor(private readonly deps: { db: Db; wallet: WalletService; audit: AuditLog }) {}

  async search(filter: { q: string; limit: number }): Promise<AdminUserView[]> {
    return this.viewsOf(filter.q ? { email: { contains: filter.q, mode: 'insensitive' } } : undefined, filter.limit);
  }

  private async viewsOf(where: Prisma.UserWhereInput | undefined, take?: number): Promise<AdminUserView[]> {
    const users = await this.deps.db.user.findMany({ where, include: { wallet: true }, orderBy: { createdAt: 'desc' }, take });
    return users.map((u) => ({
      id: u.id,
      email: u.email,
      role: u.role,
      disabled: u.disabledAt !== null,
      availableMicros: (u.wallet?.available ?? 0n).toString(),
      heldMicros: (u.wallet?.held ?? 0n).toString(),
      createdAt: u.createdAt.toISOString(),
    }));
  }

  /**
   * Changes a user's role or disables / re-enables them. Either change ends the user's access
   * tokens at once (token version bump: every request checks it), and disabling also revokes
   * their refresh tokens, so a demoted admin or a banned customer is out on the next request.
   * An admin cannot demote or disable themselves: the last admin must not lock everyone out.
   */
  async update(userId: string, change: { role?: 'CUSTOMER' | 'ADMIN'; disabled?: boolean }, actor: Actor): Promise<AdminUserView> {
    const { db, audit } = this.deps;
    if (userId === actor.id) throw new AppError('FORBIDDEN', 'Admins cannot change their own role or disable themselves.');
    const user = await db.user.findUnique({ where: { id: userId } });
    if (!user) throw new AppError('USER_NOT_FOUND', 'No such user.');
    const disabledAt = change.disabled === undefined ? user.disabledAt : change.disabled ? (user.disabledAt ?? new Date()) : null;
    const role = change.role ?? user.role;
    const changed = role !== user.role || (disabledAt === null) !== (user.disabledAt === null);
    if (changed) {
      await db.user.update({ where: { id: userId }, data: { role, disabledAt, tokenVersion: { increment: 1 } } });
      if (disabledAt) await db.refreshToken.updateMany({ where: { userId, revokedAt: null }, data: { revokedAt: new Date() } });
      await audit.record({ action: 'admin.user.update', actorId: actor.id, targetType: 'user', targetId: userId, ip: actor.ip, details: { from: { role: user.role, disabled: user.disabledAt !== null }, to: { role, disabled: disabledAt !== null } } });
    }
    const [view] = await this.viewsOf({ id: userId });
    return view;
  }

  /** E-mail addresses by user id, for lists that show whose an activation is. */
  async emailsOf(userIds: string[]): Promise<Map<string, string>> {
    const users = await this.deps.db.user.findMany({ where: { id: { in: [...new Set(userIds)] } }, select: { id: true, email: true } });
    return new Map(users.map((u) => [u.id, u.email]));
  }

  /** A user's wallet and its newest ledger entries (admin user page). */
  async walletOf(userId: string, limit: number): Promise<{ user: AdminUserView; wallet: WalletSnapshot | null; ledger: LedgerEntryView[] }> {
    const [user] = await this.viewsOf({ id: userId });
    if (!user) throw new AppError('USER_NOT_FOUND', 'No such user.');
    const wallet = await this.deps.wallet.getWallet(userId).catch(() => null);
    return { user, wallet, ledger: wallet ? await this.deps.wallet.listLedger(userId, { limit }) : [] };
  }

  /**
   * Takes money out of a wallet (a correction: a credit made twice, a chargeback), never below
   * zero; with the client's idempotency key and a reason, audited with the ledger entry.
   */
  async debit(input: { userId: string; amountMicros: bigint; memo: string; idempotencyKey: string }, actor: Actor): Promise<{ entry: LedgerEntryView; wallet: WalletSnapshot }> {
    const { db, wallet, audit } = this.deps;
    const user = await db.user.findUnique({ where: { id: input.userId } });
    if (!user) throw new AppError('USER_NOT_FOUND', 'No such user.');
    await wallet.ensureWallet(user.id);
    const entry = await wallet.debit({ userId: user.id, amountMicros: input.amountMicros, idempotencyKey: `admin-debit:${input.idempotencyKey}`, memo: input.memo, actorId: actor.id });
    await audit.record({
      action: 'admin.wallet.debit',
      actorId: actor.id,
      targetType: 'user',
      targetId: user.id,
      ip: actor.ip,
      details: { amountMicros: input.amountMicros.toString(), ledgerEntryId: entry.id.toString(), idempotencyKey: input.idempotencyKey, reason: input.memo },
    });
    return { entry, wallet: await wallet.getWallet(user.id) };
  }

  /**
   * The only way money enters a wallet until payments exist: an admin, with the client's
   * idempotency key, so a retried request credits once. Audited with the ledger entry.
   */
  async credit(input: { userId: string; amountMicros: bigint; memo: string; idempotencyKey: string }, actor: Actor): Promise<{ entry: LedgerEntryView; wallet: WalletSnapshot }> {
    const { db, wallet, audit } = this.deps;
    const user = await db.user.findUnique({ where: { id: input.userId } });
    if (!user) throw new AppError('USER_NOT_FOUND', 'No such user.');
    await wallet.ensureWallet(user.id);
    const entry = await wallet.credit({
      userId: user.id,
      amountMicros: input.amountMicros,
      idempotencyKey: `admin-credit:${input.idempotencyKey}`,
      memo: input.memo,
      actorId: actor.id,
    });
    await audit.record({
      action: 'admin.wallet.credit',
      actorId: actor.id,
      targetType: 'user',
      targetId: user.id,
      ip: actor.ip,
      details: { amountMicros: input.amountMicros.toString(), ledgerEntryId: entry.id.toString(), idempotencyKey: input.idempotencyKey },
    });
    return { entry, wallet: await wallet.getWallet(user.id) };
  }
}
