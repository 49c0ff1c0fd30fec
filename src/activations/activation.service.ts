import { createHash, randomUUID } from 'node:crypto';
import {
  WithStartWorkflowOperation,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
} from '@temporalio/client';
import { ApplicationFailure, TypedSearchAttributes } from '@temporalio/common';
import type { CatalogService } from '../catalog/catalog.service';
import type { Db } from '../db/client';
import { AppError, notFound } from '../lib/errors';
import type { WalletService } from '../wallet';
import {
  ACTIVATION_WORKFLOW_TYPE,
  FailureType,
  TERMINAL_STATUSES,
  awaitNumberUpdate,
  cancelActivationUpdate,
  finishActivationUpdate,
  getActivationQuery,
  requestAnotherSmsUpdate,
  searchAttributes,
  type ActivationInput,
  type ActivationStatus,
  type ActivationView,
} from '../../workflows/contracts';

export interface ActivationDto extends ActivationView {
  userId: string;
  createdAt: string;
}

export interface PurchaseRequest {
  userId: string;
  serviceCode: string;
  countryIso: string;
  maxPriceMicros: bigint | null;
  idempotencyKey: string | null;
}

/** HTTP meaning of each refusal a workflow update validator can raise (workflows/contracts.ts). */
const refusalStatus: Record<string, number> = {
  [FailureType.CancelTooEarly]: 409,
  [FailureType.SmsAlreadyReceived]: 409,
  [FailureType.NoSmsYet]: 409,
  [FailureType.AlreadyAwaitingSms]: 409,
  [FailureType.ActivationClosed]: 409,
  [FailureType.NotReady]: 409,
  ACTION_IN_PROGRESS: 409,
  PROVIDER_ERROR: 502,
};

/** Why a purchase ended FAILED → what the buyer is told. */
const purchaseFailure: Record<string, [number, string]> = {
  INSUFFICIENT_FUNDS: [402, 'Your balance is too low for this number.'],
  NO_OFFERS: [409, 'No numbers are available for this service and country right now.'],
  NO_NUMBERS: [409, 'No provider has a number for this service and country right now.'],
  MAX_PRICE_TOO_LOW: [409, 'Your maximum price is below the cheapest offer.'],
};

/**
 * The purchase use cases behind /api/numbers and the admin panel: start a workflow (idempotently),
 * read an activation, and pass customer actions to the workflow as updates.
 */
export class ActivationService {
  constructor(
    private readonly deps: {
      db: Db;
      temporal: Client;
      taskQueue: string;
      catalog: CatalogService;
      wallet: WalletService;
      polling: ActivationInput['polling'];
    },
  ) {}

  /** Same user + same Idempotency-Key → same workflow id → the same purchase, however often it is retried. */
  static activationIdFor(userId: string, idempotencyKey: string | null): string {
    if (!idempotencyKey) return `act-${randomUUID()}`;
    return `act-${createHash('sha256').update(`${userId}\n${idempotencyKey}`).digest('hex').slice(0, 32)}`;
  }

  async purchase(request: PurchaseRequest): Promise<{ activation: ActivationDto; created: boolean }> {
    const { db, catalog, wallet, temporal } = this.deps;
    const activationId = ActivationService.activationIdFor(request.userId, request.idempotencyKey);
    const existing = await this.fromDatabase(activationId);
    if (existing) return { activation: this.failedPurchaseOrView(existing), created: false };

    // Refuse bad requests here, before any workflow or money exists; the workflow re-checks.
    await catalog.requireService(request.serviceCode);
    await catalog.requireCountry(request.countryIso);
    const quote = await catalog.quote({ serviceCode: request.serviceCode, countryIso: request.countryIso, maxPriceMicros: request.maxPriceMicros });
    const balance = await wallet.getWallet(request.userId).catch(() => null);
    if (!balance || balance.availableMicros < quote.holdMicros) {
      throw new AppError('INSUFFICIENT_FUNDS', 402, 'Your balance is too low for this number.', { requiredMicros: quote.holdMicros.toString() });
    }

    const input: ActivationInput = {
      activationId,
      userId: request.userId,
      serviceCode: request.serviceCode,
      countryIso: request.countryIso,
      maxPriceMicros: request.maxPriceMicros?.toString() ?? null,
      polling: this.deps.polling,
    };
    const startWorkflowOperation = new WithStartWorkflowOperation(ACTIVATION_WORKFLOW_TYPE, {
      workflowId: activationId,
      taskQueue: this.deps.taskQueue,
      args: [input],
      // A concurrent retry joins the running purchase; a closed one is never started again.
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      typedSearchAttributes: new TypedSearchAttributes([
        { key: searchAttributes.status, value: 'RESERVED' },
        { key: searchAttributes.userId, value: request.userId },
        { key: searchAttributes.serviceCode, value: request.serviceCode },
        { key: searchAttributes.countryIso, value: request.countryIso },
      ]),
    });
    let view: ActivationView;
    try {
      view = await temporal.workflow.executeUpdateWithStart(awaitNumberUpdate, { startWorkflowOperation });
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      const finished = await this.fromDatabase(activationId);
      if (!finished) throw error;
      return { activation: this.failedPurchaseOrView(finished), created: false };
    }
    const activation = await this.toDto(view, request.userId);
    return { activation: this.failedPurchaseOrView(activation), created: true };
  }

  /** A user's own activation: the live workflow view while it runs, the database once it ended. */
  async get(activationId: string, userId: string | null): Promise<ActivationDto> {
    const row = await this.fromDatabase(activationId);
    if (!row || (userId !== null && row.userId !== userId)) throw notFound('NOT_FOUND', 'No such activation.');
    if (TERMINAL_STATUSES.includes(row.status)) return row;
    try {
      const view = await this.deps.temporal.workflow.getHandle(activationId).query(getActivationQuery);
      return { ...view, userId: row.userId, createdAt: row.createdAt };
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return row;
      // The worker may be restarting: the database view is slightly behind but never wrong about money.
      return row;
    }
  }

  async list(filter: { userId?: string; status?: ActivationStatus; limit: number }): Promise<ActivationDto[]> {
    const rows = await this.deps.db.activation.findMany({
      where: { userId: filter.userId, status: filter.status },
      orderBy: { createdAt: 'desc' },
      take: filter.limit,
      include: { messages: { orderBy: { seq: 'asc' } } },
    });
    return rows.map((row) => rowToDto(row));
  }

  cancel(activationId: string, userId: string | null) {
    return this.act(activationId, userId, cancelActivationUpdate);
  }

  requestAnotherSms(activationId: string, userId: string) {
    return this.act(activationId, userId, requestAnotherSmsUpdate);
  }

  finish(activationId: string, userId: string) {
    return this.act(activationId, userId, finishActivationUpdate);
  }

  /** Admins may stop any purchase: Temporal cancellation, whose compensation refunds when no SMS came. */
  async adminCancel(activationId: string): Promise<ActivationDto> {
    const row = await this.fromDatabase(activationId);
    if (!row) throw notFound('NOT_FOUND', 'No such activation.');
    if (TERMINAL_STATUSES.includes(row.status)) throw new AppError('ACTIVATION_CLOSED', 409, `The activation is already ${row.status.toLowerCase()}.`);
    const handle = this.deps.temporal.workflow.getHandle(activationId);
    await handle.cancel();
    await handle.result().catch(() => undefined);
    return this.get(activationId, null);
  }

  private async act(activationId: string, userId: string | null, update: typeof cancelActivationUpdate): Promise<ActivationDto> {
    const row = await this.fromDatabase(activationId);
    if (!row || (userId !== null && row.userId !== userId)) throw notFound('NOT_FOUND', 'No such activation.');
    if (TERMINAL_STATUSES.includes(row.status)) throw new AppError('ACTIVATION_CLOSED', 409, `The activation is already ${row.status.toLowerCase()}.`);
    try {
      const view = await this.deps.temporal.workflow.getHandle(activationId).executeUpdate(update);
      return { ...view, userId: row.userId, createdAt: row.createdAt };
    } catch (error) {
      throw toAppError(error);
    }
  }

  private failedPurchaseOrView(activation: ActivationDto): ActivationDto {
    if (activation.status !== 'FAILED') return activation;
    const reason = activation.failureReason ?? 'FAILED';
    const [status, message] = purchaseFailure[reason] ?? [502, 'No provider could sell this number; nothing was charged.'];
    throw new AppError(purchaseFailure[reason] ? reason : 'PURCHASE_FAILED', status, message, { activationId: activation.id, reason });
  }

  private async toDto(view: ActivationView, userId: string): Promise<ActivationDto> {
    const row = await this.deps.db.activation.findUnique({ where: { id: view.id }, select: { createdAt: true } });
    return { ...view, userId, createdAt: (row?.createdAt ?? new Date()).toISOString() };
  }

  private async fromDatabase(activationId: string): Promise<ActivationDto | null> {
    const row = await this.deps.db.activation.findUnique({ where: { id: activationId }, include: { messages: { orderBy: { seq: 'asc' } } } });
    return row ? rowToDto(row) : null;
  }
}

type ActivationRow = NonNullable<Awaited<ReturnType<Db['activation']['findUnique']>>> & {
  messages: { seq: number; code: string | null; text: string; receivedAt: Date }[];
};

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

/** An update refused by the workflow's validator (or failed by its handler) → the stable API error. */
export function toAppError(error: unknown): unknown {
  const failure = error instanceof WorkflowUpdateFailedError ? error.cause : error;
  if (failure instanceof ApplicationFailure && failure.type) {
    const details = (failure.details?.[0] ?? undefined) as Record<string, unknown> | undefined;
    return new AppError(failure.type, refusalStatus[failure.type] ?? 409, failure.message, details);
  }
  return error;
}
