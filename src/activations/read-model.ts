import type { Db } from '../db/client';
import type { ActivationStatus, ActivationView } from '../../workflows/contracts';

/** An activation as the API shows it: the workflow's view plus who owns it and when it began. */
export interface ActivationDto extends ActivationView {
  userId: string;
  createdAt: string;
}

export interface ActivationListFilter {
  userId?: string;
  /** Several users (an admin's e-mail search matched more than one). */
  userIds?: string[];
  status?: ActivationStatus;
  providerId?: string;
  serviceCode?: string;
  countryIso?: string;
  /** Created at or after / before. */
  from?: Date;
  to?: Date;
  /**
   * Only stuck ones: named by Temporal visibility (`ids`), or by the table — RESERVED since before
   * `since`, or still open though it expired before `since`.
   */
  stuck?: { since: Date; ids: string[] };
  /** RESERVED or ACTIVE only. */
  openOnly?: boolean;
  limit: number;
}

type ActivationRow = NonNullable<Awaited<ReturnType<Db['activation']['findUnique']>>> & {
  messages: { seq: number; code: string | null; text: string; receivedAt: Date }[];
};

/**
 * The activations table: the read model the worker's record activities keep and the API lists
 * from. The workflow stays the authority while it runs (ActivationService.get asks it).
 */
export class ActivationReadModel {
  constructor(private readonly deps: { db: Db }) {}

  async find(activationId: string): Promise<ActivationDto | null> {
    const row = await this.deps.db.activation.findUnique({ where: { id: activationId }, include: { messages: { orderBy: { seq: 'asc' } } } });
    return row ? rowToDto(row) : null;
  }

  async list(filter: ActivationListFilter): Promise<ActivationDto[]> {
    const { stuck } = filter;
    const rows = await this.deps.db.activation.findMany({
      where: {
        userId: filter.userIds ? { in: filter.userIds } : filter.userId,
        status: filter.openOnly ? { in: ['RESERVED', 'ACTIVE'] } : filter.status,
        providerId: filter.providerId,
        serviceCode: filter.serviceCode,
        countryIso: filter.countryIso,
        createdAt: filter.from || filter.to ? { gte: filter.from, lt: filter.to } : undefined,
        ...(stuck
          ? {
              OR: [
                { id: { in: stuck.ids } },
                { status: 'RESERVED', createdAt: { lt: stuck.since } },
                { status: { in: ['RESERVED', 'ACTIVE'] }, expiresAt: { lt: stuck.since } },
              ],
            }
          : {}),
      },
      orderBy: { createdAt: 'desc' },
      take: filter.limit,
      include: { messages: { orderBy: { seq: 'asc' } } },
    });
    return rows.map(rowToDto);
  }

  /**
   * Closes the row of a workflow an admin terminated (no record activity will ever run for it):
   * only while it is still open, so an outcome the workflow recorded first is kept.
   */
  async closeTerminated(activationId: string, status: 'COMPLETED' | 'FAILED'): Promise<void> {
    await this.deps.db.activation.updateMany({
      where: { id: activationId, status: { in: ['RESERVED', 'ACTIVE'] } },
      data: { status, failureReason: status === 'FAILED' ? 'TERMINATED' : undefined, endedAt: new Date() },
    });
  }

  async createdAt(activationId: string): Promise<string> {
    const row = await this.deps.db.activation.findUnique({ where: { id: activationId }, select: { createdAt: true } });
    return (row?.createdAt ?? new Date()).toISOString();
  }
}

function rowToDto(row: ActivationRow): ActivationDto {
  const live = row.status === 'ACTIVE';
  const cancelAllowed = !row.cancelAllowedAt || row.cancelAllowedAt.getTime() <= Date.now();
  return {
    id: row.id,
    userId: row.userId,
    status: row.status,
    serviceCode: row.serviceCode,
    countryIso: row.countryIso,
    providerId: row.providerId,
    phone: row.phone,
    heldMicros: row.heldMicros.toString(),
    priceMicros: row.priceMicros?.toString() ?? null,
    expiresAt: row.expiresAt?.toISOString() ?? null,
    cancelAllowedAt: row.cancelAllowedAt?.toISOString() ?? null,
    failureReason: row.failureReason,
    messages: row.messages.map((m) => ({ seq: m.seq, code: m.code, text: m.text, receivedAt: m.receivedAt.toISOString() })),
    // Without the workflow's answer we offer only what is certainly allowed.
    actions: { cancel: live && row.messages.length === 0 && cancelAllowed, retry: false, finish: live && row.messages.length > 0 },
    createdAt: row.createdAt.toISOString(),
  };
}
