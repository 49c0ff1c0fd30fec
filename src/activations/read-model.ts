import type { Db } from '../db/client';
import type { ActivationStatus, ActivationView } from '../../workflows/contracts';

/** An activation as the worker publishes it: the workflow's view plus who owns it and when it began. */
export interface ActivationRecord extends ActivationView {
  userId: string;
  createdAt: string;
}

/**
 * An activation as the API shows it: with the catalog's names and the country's dialling code,
 * so no client has to know (or cache) what `tg` or `GB` stands for.
 */
export interface ActivationDto extends ActivationRecord, ActivationNames {}

export interface ActivationNames {
  serviceName: string;
  countryName: string;
  /** Dialling code without `+` ("44"), so a phone number can be shown grouped. */
  countryDial: string;
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
  service: { name: string };
  country: { name: string; dial: string };
};

const WITH_DETAILS = {
  messages: { orderBy: { seq: 'asc' } },
  service: { select: { name: true } },
  country: { select: { name: true, dial: true } },
} as const;

/** What a ledger line about a purchase says: the activation and its names. */
export interface PurchaseLabel extends ActivationNames {
  activationId: string;
  serviceCode: string;
  countryIso: string;
}

/**
 * The activations table: the read model the worker's record activities keep and the API lists
 * from. The workflow stays the authority while it runs (ActivationService.get asks it).
 */
export class ActivationReadModel {
  constructor(private readonly deps: { db: Db }) {}

  async find(activationId: string): Promise<ActivationDto | null> {
    const row = await this.deps.db.activation.findUnique({ where: { id: activationId }, include: WITH_DETAILS });
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
      include: WITH_DETAILS,
    });
    return rows.map(rowToDto);
  }

  /** The user's own purchases among `activationIds`, with names (ledger lines link to them). */
  async labels(userId: string, activationIds: readonly string[]): Promise<Map<string, PurchaseLabel>> {
    const ids = [...new Set(activationIds)];
    if (ids.length === 0) return new Map();
    const rows = await this.deps.db.activation.findMany({
      where: { id: { in: ids }, userId },
      select: { id: true, serviceCode: true, countryIso: true, service: { select: { name: true } }, country: { select: { name: true, dial: true } } },
    });
    return new Map(
      rows.map((row) => [
        row.id,
        { activationId: row.id, serviceCode: row.serviceCode, countryIso: row.countryIso, serviceName: row.service.name, countryName: row.country.name, countryDial: row.country.dial },
      ]),
    );
  }

  /** Names of one service and country, for views that come from the workflow rather than a row. */
  async names(serviceCode: string, countryIso: string): Promise<ActivationNames> {
    const [service, country] = await Promise.all([
      this.deps.db.service.findUnique({ where: { code: serviceCode }, select: { name: true } }),
      this.deps.db.country.findUnique({ where: { iso2: countryIso }, select: { name: true, dial: true } }),
    ]);
    return { serviceName: service?.name ?? serviceCode, countryName: country?.name ?? countryIso, countryDial: country?.dial ?? '' };
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
      include: WITH_DETAILS,
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
  const lastSeq = row.messages.at(-1)?.seq ?? 0;
  const awaitingAnother = row.anotherSmsAfterSeq !== null && lastSeq <= row.anotherSmsAfterSeq;
  return {
    id: row.id,
    userId: row.userId,
    status: row.status,
    serviceCode: row.serviceCode,
    countryIso: row.countryIso,
    serviceName: row.service.name,
    countryName: row.country.name,
    countryDial: row.country.dial,
    providerId: row.providerId,
    phone: row.phone,
    heldMicros: row.heldMicros.toString(),
    priceMicros: row.priceMicros?.toString() ?? null,
    expiresAt: row.expiresAt?.toISOString() ?? null,
    cancelAllowedAt: row.cancelAllowedAt?.toISOString() ?? null,
    failureReason: row.failureReason,
    messages: row.messages.map((m) => ({ seq: m.seq, code: m.code, text: m.text, receivedAt: m.receivedAt.toISOString() })),
    // What the workflow's validators allow, as far as the row knows; an action in flight is not
    // in it — the workflow refuses a second one (ACTION_IN_PROGRESS) or joins the same.
    actions: {
      cancel: live && row.messages.length === 0 && cancelAllowed,
      retry: live && row.messages.length > 0 && !awaitingAnother,
      finish: live && row.messages.length > 0,
    },
    createdAt: row.createdAt.toISOString(),
  };
}
