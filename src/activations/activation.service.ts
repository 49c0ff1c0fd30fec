import { createHash, randomUUID } from 'node:crypto';
import {
  ServiceError,
  WithStartWorkflowOperation,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  type Client,
} from '@temporalio/client';
import { ApplicationFailure, CancelledFailure, TypedSearchAttributes } from '@temporalio/common';
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
import { PurchaseKeys, type PurchaseKeyClaim } from './purchase-keys';
import { actionsAt } from './view-clock';
import type { ActivationDto, ActivationListFilter, ActivationNames, ActivationReadModel, PurchaseLabel } from './read-model';

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
      purchaseKeys: PurchaseKeys;
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

  /**
   * 201 for the request that makes the purchase; 200 with the same purchase for the same request
   * again (concurrent or later); 422 IDEMPOTENCY_KEY_REUSED for another request with its key.
   * The key is claimed in purchase_keys once the request passed the checks, so a refused request
   * (unknown service, too little money) leaves the key free for a corrected retry.
   */
  async purchase(request: PurchaseRequest): Promise<{ activation: ActivationDto; created: boolean }> {
    const activationId = ActivationService.activationIdFor(request.userId, request.idempotencyKey);
    const key = request.idempotencyKey;
    const fingerprint = PurchaseKeys.fingerprint(request);
    if (key) {
      const earlier = await this.deps.purchaseKeys.find(request.userId, key);
      if (earlier) return { activation: await this.replay(request, earlier, fingerprint), created: false };
      // A purchase from before keys were claimed: its workflow id is all that names it.
      if (await this.fromDatabase(activationId)) return { activation: await this.join(request, activationId), created: false };
    }

    try {
      await this.refuseEarly(request);
    } catch (refusal) {
      // A twin that arrived at the same moment may have claimed the key and started the purchase
      // this request was refused for (its hold took the money this check wanted): answer as its twin.
      const claimed = key ? await this.deps.purchaseKeys.find(request.userId, key) : null;
      if (!claimed) throw refusal;
      return { activation: await this.replay(request, claimed, fingerprint), created: false };
    }

    if (key) {
      const claim = await this.deps.purchaseKeys.claim(request.userId, key, fingerprint, activationId);
      if (!claim.claimed) return { activation: await this.replay(request, claim, fingerprint), created: false };
    }
    return { activation: this.failedPurchaseOrView(await this.startOrJoin(request, activationId)), created: true };
  }

  /** Refuses bad requests before any workflow or money exists; the workflow re-checks. */
  private async refuseEarly(request: PurchaseRequest): Promise<void> {
    const { catalog, wallet } = this.deps;
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
      // Both amounts, so a client can offer to top up exactly what is missing.
      throw new AppError('INSUFFICIENT_FUNDS', 'Your balance is too low for this number.', {
        requiredMicros: quote.holdMicros.toString(),
        availableMicros: (balance?.availableMicros ?? 0n).toString(),
      });
    }
  }

  /** A request whose key was claimed before: the same request joins that purchase, another one is refused. */
  private async replay(request: PurchaseRequest, claim: PurchaseKeyClaim, fingerprint: string): Promise<ActivationDto> {
    if (claim.fingerprint !== fingerprint) {
      throw new AppError('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was already used for a different purchase; send a new key for a new request.', {
        activationId: claim.activationId,
      });
    }
    return this.join(request, claim.activationId);
  }

  /**
   * The purchase as its first request answers it: once it ended, from the database; while it
   * runs, from the workflow once the number is bought (the row says RESERVED until then). By
   * update-with-start, which also covers a claimer that died between its claim and its start.
   */
  private async join(request: PurchaseRequest, activationId: string): Promise<ActivationDto> {
    const existing = await this.fromDatabase(activationId);
    if (existing && TERMINAL_STATUSES.includes(existing.status)) return this.failedPurchaseOrView(existing);
    return this.failedPurchaseOrView(await this.startOrJoin(request, activationId));
  }

  /** Starts the purchase's workflow, or joins it if it runs, and waits until the number is bought (or the purchase failed). */
  private async startOrJoin(request: PurchaseRequest, activationId: string): Promise<ActivationDto> {
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
      view = await this.deps.temporal.workflow.executeUpdateWithStart(awaitNumberUpdate, { startWorkflowOperation });
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      const finished = await this.fromDatabase(activationId);
      if (!finished) throw error;
      return finished;
    }
    const [createdAt, names] = await Promise.all([this.deps.readModel.createdAt(activationId), this.deps.readModel.names(request.serviceCode, request.countryIso)]);
    return withOwner(view, { userId: request.userId, createdAt, ...names });
  }

  /** A user's own activation: the live workflow view while it runs, the database once it ended. */
  async get(activationId: string, userId: string | null): Promise<ActivationDto> {
    const row = await this.fromDatabase(activationId);
    if (!row || (userId !== null && row.userId !== userId)) throw new AppError('NOT_FOUND', 'No such activation.');
    if (TERMINAL_STATUSES.includes(row.status)) return row;
    try {
      const view = await this.deps.temporal.workflow.getHandle(activationId).query(getActivationQuery);
      return withOwner(view, row);
    } catch {
      // Closed a moment ago, or the worker is restarting: the database view is slightly behind but
      // never wrong about money.
      return row;
    }
  }

  list(filter: ActivationListFilter): Promise<ActivationDto[]> {
    return this.deps.readModel.list(filter);
  }

  /** The user's own purchases among `activationIds`, named (for ledger lines). */
  purchaseLabels(userId: string, activationIds: readonly string[]): Promise<Map<string, PurchaseLabel>> {
    return this.deps.readModel.labels(userId, activationIds);
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
    if (TERMINAL_STATUSES.includes(current.status)) throw closedError(current);
    if (current.messages.length > 0) {
      throw new AppError('SMS_ALREADY_RECEIVED', 'An SMS has already arrived: the customer has the code, so the number cannot be cancelled. Finish it instead.');
    }
    const handle = this.deps.temporal.workflow.getHandle(activationId);
    try {
      await handle.cancel();
    } catch (error) {
      // The activation ended between the read above and the cancel (a customer's cancel, the expiry).
      throw await this.lostRaceOr(activationId, error);
    }
    await this.deps.audit.record({ action: 'admin.activation.cancel', actorId: actor.id, targetType: 'activation', targetId: activationId, ip: actor.ip, details: { userId: current.userId, status: current.status } });
    // Most cancels end within moments; the rest end in the workflow, durably, not in this request
    // (the deadline ends the wait's own call too, so nothing of this request outlives it).
    const ended = await this.deps.temporal.withDeadline(Date.now() + ADMIN_CANCEL_WAIT_MS, () => handle.result()).then(
      () => true,
      () => false,
    );
    const activation = await this.get(activationId, null);
    if (ended || TERMINAL_STATUSES.includes(activation.status)) return { activation, scheduledAt: null };
    const allowedAt = activation.cancelAllowedAt && Date.parse(activation.cancelAllowedAt) > Date.now() ? activation.cancelAllowedAt : null;
    return { activation, scheduledAt: allowedAt ?? new Date().toISOString() };
  }

  private async act(activationId: string, userId: string | null, update: typeof cancelActivationUpdate): Promise<ActivationDto> {
    const row = await this.fromDatabase(activationId);
    if (!row || (userId !== null && row.userId !== userId)) throw new AppError('NOT_FOUND', 'No such activation.');
    if (TERMINAL_STATUSES.includes(row.status)) throw closedError(row);
    try {
      const view = await this.deps.temporal.workflow.getHandle(activationId).executeUpdate(update);
      return withOwner(view, row);
    } catch (error) {
      throw await this.lostRaceOr(activationId, error);
    }
  }

  /**
   * An action that lost a race against the end of its workflow (another cancel, an admin's cancel,
   * a finish, the expiry) → 409 ACTIVATION_CLOSED naming the status that won; a refusal by the
   * workflow → its own code; anything else stays what it is (a 500).
   */
  private async lostRaceOr(activationId: string, error: unknown): Promise<unknown> {
    const refusal = toAppError(error);
    // The workflow's own "already closed" (its validator ran after the end) is as certain as a cancellation.
    const race = refusal instanceof AppError && refusal.code === 'ACTIVATION_CLOSED' ? 'closing' : lostRace(error);
    if (race === null) return refusal;
    const handle = this.deps.temporal.workflow.getHandle(activationId);
    // The winner may still be giving the number back and refunding: wait (briefly) for the
    // workflow to close, so the answer names the status it ended in, not the one it leaves.
    await this.deps.temporal.withDeadline(Date.now() + SETTLE_WAIT_MS, () => handle.result()).catch(() => undefined);
    const row = await this.fromDatabase(activationId);
    if (row && TERMINAL_STATUSES.includes(row.status)) return closedError(row);
    if (race === 'closing' && row) return closedError(row, { closing: true });
    // "Not found", "closing" or a timed-out poll only count as a lost race if Temporal says the
    // workflow did close; a workflow that is missing or still running is an error of ours.
    const ended = await handle.describe().then((d) => (d.status.name === 'RUNNING' ? null : d.status.name), () => null);
    return ended && row ? closedError(row, { workflowStatus: ended }) : error;
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

/** A workflow's view as the API shows it: its owner, its start and the catalog's names, with cancel judged by the wall clock. */
function withOwner(view: ActivationView, row: Pick<ActivationDto, 'userId' | 'createdAt'> & ActivationNames): ActivationDto {
  return {
    ...view,
    actions: actionsAt(view, Date.now()),
    userId: row.userId,
    createdAt: row.createdAt,
    serviceName: row.serviceName,
    countryName: row.countryName,
    countryDial: row.countryDial,
  };
}

/** How long a request that lost a race waits for the winner to close the workflow. */
const SETTLE_WAIT_MS = 5_000;

/** gRPC status codes (grpc/grpc status.proto) the Temporal client passes through in a ServiceError's cause. */
const GRPC_RESOURCE_EXHAUSTED = 8;

/**
 * Whether a failed update or cancel may have lost a race against the end of the workflow:
 * - 'closing': certainly — the workflow was cancelled while the update waited (CancelledFailure),
 *   or it completed before the accepted update did (the server's AcceptedUpdateCompletedWorkflow);
 * - 'maybe-closed': if the workflow turns out closed — NOT_FOUND ("workflow execution already
 *   completed", "workflow update was aborted by closing workflow": WorkflowNotFoundError),
 *   RESOURCE_EXHAUSTED ("workflow is closing"), or an update poll that timed out;
 * - null: not a race (a refusal by the validator, a lost connection …).
 */
function lostRace(error: unknown): 'closing' | 'maybe-closed' | null {
  if (error instanceof WorkflowUpdateFailedError) {
    if (error.cause instanceof CancelledFailure) return 'closing';
    if (error.cause instanceof ApplicationFailure && error.cause.type === 'AcceptedUpdateCompletedWorkflow') return 'closing';
    return null;
  }
  if (error instanceof WorkflowNotFoundError || error instanceof WorkflowUpdateRPCTimeoutOrCancelledError) return 'maybe-closed';
  if (error instanceof ServiceError && (error.cause as { code?: unknown } | undefined)?.code === GRPC_RESOURCE_EXHAUSTED) return 'maybe-closed';
  return null;
}

/**
 * 409 ACTIVATION_CLOSED with the status that won. Still closing: the winner (an admin's cancel,
 * say) is giving the number back. A workflow status: it ended without recording an outcome
 * (terminated by an operator).
 */
function closedError(activation: Pick<ActivationDto, 'id' | 'status'>, note: { closing: true } | { workflowStatus: string } | null = null): AppError {
  const message = !note
    ? `The activation is already ${activation.status.toLowerCase()}.`
    : 'closing' in note
      ? 'The activation is being closed.'
      : 'The activation has ended.';
  return new AppError('ACTIVATION_CLOSED', message, { activationId: activation.id, status: activation.status, ...note });
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
