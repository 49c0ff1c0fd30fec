import type { Db } from '../db/client';
import type { Actor, AuditLog } from '../lib/audit';
import { AppError } from '../lib/errors';
import type { LedgerEntryView, WalletService, WalletSnapshot } from '../wallet';

export interface AdminUserView {
  id: string;
  email: string;
  role: string;
  availableMicros: string;
  heldMicros: string;
  createdAt: string;
}

/** Users as admins see and manage them (/api/admin/users, /api/admin/wallets). */
export class UserAdminService {
  constructor(private readonly deps: { db: Db; wallet: WalletService; audit: AuditLog }) {}

  async search(filter: { q: string; limit: number }): Promise<AdminUserView[]> {
    const users = await this.deps.db.user.findMany({
      where: filter.q ? { email: { contains: filter.q, mode: 'insensitive' } } : undefined,
      include: { wallet: true },
      orderBy: { createdAt: 'desc' },
      take: filter.limit,
    });
    return users.map((u) => ({
      id: u.id,
      email: u.email,
      role: u.role,
      availableMicros: (u.wallet?.available ?? 0n).toString(),
      heldMicros: (u.wallet?.held ?? 0n).toString(),
      createdAt: u.createdAt.toISOString(),
    }));
  }

  /** E-mail addresses by user id, for lists that show whose an activation is. */
  async emailsOf(userIds: string[]): Promise<Map<string, string>> {
    const users = await this.deps.db.user.findMany({ where: { id: { in: [...new Set(userIds)] } }, select: { id: true, email: true } });
    return new Map(users.map((u) => [u.id, u.email]));
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
