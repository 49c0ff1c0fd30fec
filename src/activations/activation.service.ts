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
import type { Actor, AuditLog } from '../lib/audit';
import { AppError } from '../lib/errors';
import type { WalletService } from '../wallet';
import {
  ACTIVATION_WORKFLOW_TYPE,
  TERMINAL_STATUSES,
  isFailureCode,
  awaitNumberUpdate,
  cancelActivationUpdate,
  finishActivationUpdate,
  getActivationQuery,
  requestAnotherSmsUpdate,
  searchAttributes,
  type ActivationInput,
  type ActivationView,
  type FailureCode,
} from '../../workflows/contracts';
import type { ActivationDto, ActivationListFilter, ActivationReadModel } from './read-model';

export type { ActivationDto } from './read-model';

export interface PurchaseRequest {
  userId: string;
  serviceCode: string;
  countryIso: string;
  maxPriceMicros: bigint | null;
  idempotencyKey: string | null;
}

/** How long an admin cancel waits for the workflow to end before answering "scheduled". */
const ADMIN_CANCEL_WAIT_MS = 3000;

export interface AdminCancelResult {
  activation: ActivationDto;
  /** Null when the activation has ended; otherwise when the workflow will cancel at the provider (its minimum age). */
  scheduledAt: string | null;
}

/** Why a purchase ended FAILED → what the buyer is told; any other reason is PURCHASE_FAILED. */
const purchaseFailure: Partial<Record<FailureCode, string>> = {
  INSUFFICIENT_FUNDS: 'Your balance is too low for this number.',
  NO_OFFERS: 'No numbers are available for this service and country right now.',
  NO_NUMBERS: 'No provider has a number for this service and country right now.',
  MAX_PRICE_TOO_LOW: 'Your maximum price is below the cheapest offer.',
};

/**
 * The purchase use cases behind /api/numbers and the admin panel: start a workflow (idempotently),
 * read an activation, and pass customer actions to the workflow as updates.
 */
export class ActivationService {
  constructor(
    private readonly deps: {
      readModel: ActivationReadModel;
      temporal: Client;
      audit: AuditLog;
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
    const { catalog, wallet, temporal } = this.deps;
    const activationId = ActivationService.activationIdFor(request.userId, request.idempotencyKey);
    const existing = await this.fromDatabase(activationId);
    if (existing) return { activation: this.failedPurchaseOrView(existing), created: false };

    // Refuse bad requests here, before any workflow or money exists; the workflow re-checks.
    await catalog.requireService(request.serviceCode);
    await catalog.requireCountry(request.countryIso);
    const quote = await catalog.quote({ serviceCode: request.serviceCode, countryIso: request.countryIso, maxPriceMicros: request.maxPriceMicros });
    // A customer without a wallet has nothing to spend; any other failure (the database is down)
    // is what it is, never "insufficient funds".
    const balance = await wallet.getWallet(request.userId).catch((error: unknown) => {
      if (error instanceof AppError && error.code === 'WALLET_NOT_FOUND') return null;
      throw error;
    });
    if (!balance || balance.availableMicros < quote.holdMicros) {
      throw new AppError('INSUFFICIENT_FUNDS', 'Your balance is too low for this number.', { requiredMicros: quote.holdMicros.toString() });
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
    const activation: ActivationDto = { ...view, userId: request.userId, createdAt: await this.deps.readModel.createdAt(activationId) };
    return { activation: this.failedPurchaseOrView(activation), created: true };
  }

  /** A user's own activation: the live workflow view while it runs, the database once it ended. */
  async get(activationId: string, userId: string | null): Promise<ActivationDto> {
    const row = await this.fromDatabase(activationId);
    if (!row || (userId !== null && row.userId !== userId)) throw new AppError('NOT_FOUND', 'No such activation.');
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

  list(filter: ActivationListFilter): Promise<ActivationDto[]> {
    return this.deps.readModel.list(filter);
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

  /**
   * Admins may stop any purchase that has no SMS: Temporal cancellation, whose compensation gives
   * the number back and refunds (DESIGN.md). The request never waits on the provider: the answer
   * says whether it is done, or when the provider's minimum age lets the workflow cancel. A number
   * with an SMS is refused (the customer has the code: finish it instead).
   */
  async adminCancel(activationId: string, actor: Actor): Promise<AdminCancelResult> {
    const current = await this.get(activationId, null);
    if (TERMINAL_STATUSES.includes(current.status)) throw new AppError('ACTIVATION_CLOSED', `The activation is already ${current.status.toLowerCase()}.`);
    if (current.messages.length > 0) {
      throw new AppError('SMS_ALREADY_RECEIVED', 'An SMS has already arrived: the customer has the code, so the number cannot be cancelled. Finish it instead.');
    }
    const handle = this.deps.temporal.workflow.getHandle(activationId);
    await handle.cancel();
    await this.deps.audit.record({ action: 'admin.activation.cancel', actorId: actor.id, targetType: 'activation', targetId: activationId, ip: actor.ip, details: { userId: current.userId, status: current.status } });
    // Most cancels end within moments; the rest end in the workflow, durably, not in this request.
    const ended = await Promise.race([
      handle.result().then(() => true, () => true),
      new Promise<false>((resolve) => setTimeout(() => resolve(false), ADMIN_CANCEL_WAIT_MS).unref()),
    ]);
    const activation = await this.get(activationId, null);
    if (ended || TERMINAL_STATUSES.includes(activation.status)) return { activation, scheduledAt: null };
    const allowedAt = activation.cancelAllowedAt && Date.parse(activation.cancelAllowedAt) > Date.now() ? activation.cancelAllowedAt : null;
    return { activation, scheduledAt: allowedAt ?? new Date().toISOString() };
  }

  private async act(activationId: string, userId: string | null, update: typeof cancelActivationUpdate): Promise<ActivationDto> {
    const row = await this.fromDatabase(activationId);
    if (!row || (userId !== null && row.userId !== userId)) throw new AppError('NOT_FOUND', 'No such activation.');
    if (TERMINAL_STATUSES.includes(row.status)) throw new AppError('ACTIVATION_CLOSED', `The activation is already ${row.status.toLowerCase()}.`);
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
    const known = isFailureCode(reason) ? purchaseFailure[reason] : undefined;
    if (known) throw new AppError(reason as FailureCode, known, { activationId: activation.id, reason });
    throw new AppError('PURCHASE_FAILED', 'No provider could sell this number; nothing was charged.', { activationId: activation.id, reason });
  }

  private fromDatabase(activationId: string): Promise<ActivationDto | null> {
    return this.deps.readModel.find(activationId);
  }
}

/** An update refused by the workflow's validator (or failed by its handler) → the stable API error. */
function toAppError(error: unknown): unknown {
  const failure = error instanceof WorkflowUpdateFailedError ? error.cause : error;
  if (failure instanceof ApplicationFailure && isFailureCode(failure.type)) {
    const details = (failure.details?.[0] ?? undefined) as Record<string, unknown> | undefined;
    return new AppError(failure.type, failure.message, details);
  }
  return error;
}
