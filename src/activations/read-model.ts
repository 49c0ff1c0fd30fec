import type { Db } from '../db/client';
import type { ActivationStatus, ActivationView } from '../../workflows/contracts';

/** An activation as the API shows it: the workflow's view plus who owns it and when it began. */
export interface ActivationDto extends ActivationView {
  userId: string;
  createdAt: string;
}

export interface ActivationListFilter {
  userId?: string;
  status?: ActivationStatus;
  limit: number;
}

/** One page of a user's activations, newest first: filters, and `before` = the previous page's nextCursor. */
export interface ActivationPageFilter {
  userId: string;
  status?: ActivationStatus;
  serviceCode?: string;
  countryIso?: string;
  before?: bigint;
  limit: number;
}

export interface ActivationPage {
  activations: ActivationDto[];
  /** Pass as `before` for the next (older) page; null on the last page. */
  nextCursor: string | null;
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
    const rows = await this.deps.db.activation.findMany({
      where: { userId: filter.userId, status: filter.status },
      orderBy: { createdAt: 'desc' },
      take: filter.limit,
      include: { messages: { orderBy: { seq: 'asc' } } },
    });
    return rows.map(rowToDto);
  }

  /**
   * Keyset pagination over the activation's protocol number (a sequence, so newest first is a
   * stable order: a page never repeats or skips a row as new purchases arrive).
   */
  async page(filter: ActivationPageFilter): Promise<ActivationPage> {
    const rows = await this.deps.db.activation.findMany({
      where: {
        userId: filter.userId,
        status: filter.status,
        serviceCode: filter.serviceCode,
        countryIso: filter.countryIso,
        ...(filter.before !== undefined ? { smsActivateId: { lt: filter.before } } : {}),
      },
      orderBy: { smsActivateId: 'desc' },
      take: filter.limit + 1,
      include: { messages: { orderBy: { seq: 'asc' } } },
    });
    const more = rows.length > filter.limit;
    const shown = more ? rows.slice(0, filter.limit) : rows;
    return { activations: shown.map(rowToDto), nextCursor: more ? shown[shown.length - 1].smsActivateId.toString() : null };
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
