import { createHash, randomUUID } from 'node:crypto';
import {
  ServiceError,
  WithStartWorkflowOperation,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  type Client,
  type WorkflowHandle,
  type WorkflowStartOptions,
} from '@temporalio/client';
import { ApplicationFailure, CancelledFailure, TypedSearchAttributes } from '@temporalio/common';
import type { CatalogService } from '../catalog/catalog.service';
import type { Actor, AuditLog } from '../lib/audit';
import { AppError } from '../lib/errors';
import type { WalletService } from '../wallet';
import {
  ACTIVATION_WORKFLOW_TYPE,
  ACTIVATION_WORKFLOW_TYPES_CLAUSE,
  TERMINAL_STATUSES,
  isFailureCode,
  awaitNumberUpdate,
  cancelActivationUpdate,
  finishActivationUpdate,
  requestAnotherSmsUpdate,
  retryStuckStepSignal,
  searchAttributes,
  STUCK_PHASES,
  type ActivationInput,
  type ActivationQuote,
  type ActivationView,
  type FailureCode,
} from '../../workflows/contracts';
import { PurchaseKeys, type PurchaseKeyClaim } from './purchase-keys';
import type { ActivationEventHub } from './live-events';
import { actionsAt } from './view-clock';
import type { ActivationDto, ActivationListFilter, ActivationNames, ActivationPage, ActivationPageFilter, ActivationReadModel, PurchaseLabel } from './read-model';
import { describeHistory, pendingActivityView, type PendingActivityView, type TimelineEvent } from './workflow-views';

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
/**
 * How long a purchase waits for its number's event before asking the workflow instead. Longer
 * than a usual purchase (tens of milliseconds) so the update is the exception; short enough that
 * a lost event costs a customer a few seconds, not the purchase.
 */
const NUMBER_EVENT_PATIENCE_MS = 5_000;

/** What refuseEarly found: the names for the answer and the quote for the hold. */
interface Checked {
  names: ActivationNames;
  quote: ActivationQuote;
}

/** What startAndAwaitNumber needs of the API's activation event hub (live-events.ts). */
export type NumberEvents = Pick<ActivationEventHub, 'listening' | 'awaitNumber'>;

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
      /** The Temporal Web UI's base URL, for the admin panel's deep links (TEMPORAL_UI_URL). */
      temporalUiUrl?: string;
    },
  ) {}

  /** Activation events as this API process receives them (live-events.ts); set by the API's start-up, absent in a worker process. */
  private numberEvents: NumberEvents | null = null;

  /** From now on a purchase this process starts waits for its number by event instead of by a workflow update. */
  listenForNumbers(events: NumberEvents): void {
    this.numberEvents = events;
  }

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
      const earlier = await this.deps.purchaseKeys.lookup(request.userId, key, activationId);
      if (earlier.claim) return { activation: await this.replay(request, earlier.claim, fingerprint), created: false };
      // A purchase from before keys were claimed: its workflow id is all that names it.
      if (earlier.activationExists) return { activation: await this.join(request, activationId), created: false };
    }

    let checked: Checked;
    try {
      checked = await this.refuseEarly(request);
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
    return { activation: this.failedPurchaseOrView(await this.startOrJoin(request, activationId, checked)), created: true };
  }

  /**
   * Refuses bad requests before any workflow or money exists. Returns the service's and country's
   * names for the answer, and the quote the balance was checked against, which the workflow's
   * hold takes (the hold itself re-checks the balance). The four reads run side by side; the
   * refusal is the first in this order (an unknown service before an empty shelf before a thin
   * wallet).
   */
  private async refuseEarly(request: PurchaseRequest): Promise<Checked> {
    const { catalog, wallet } = this.deps;
    const [service, country, quote, balance] = await Promise.allSettled([
      catalog.requireService(request.serviceCode),
      catalog.requireCountry(request.countryIso),
      catalog.quote({ serviceCode: request.serviceCode, countryIso: request.countryIso, maxPriceMicros: request.maxPriceMicros }),
      // A customer without a wallet has nothing to spend; any other failure (the database is down)
      // is what it is, never "insufficient funds".
      wallet.getWallet(request.userId).catch((error: unknown) => {
        if (error instanceof AppError && error.code === 'WALLET_NOT_FOUND') return null;
        throw error;
      }),
    ]);
    const names = { serviceName: settled(service).name, countryName: settled(country).name, countryDial: settled(country).dial };
    this.refuseShortBalance(settled(quote), settled(balance));
    const { holdMicros, candidates } = settled(quote);
    return { names, quote: { holdMicros: holdMicros.toString(), candidates } };
  }

  private refuseShortBalance(quote: { holdMicros: bigint }, balance: { availableMicros: bigint } | null): void {
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

  /**
   * Starts the purchase's workflow, or joins it if it runs, and waits until the number is bought
   * (or the purchase failed). `checked` comes only with the request that just passed the checks
   * and claimed the purchase, whose workflow is then almost certainly new (startAndAwaitNumber);
   * a joiner has none.
   */
  private async startOrJoin(request: PurchaseRequest, activationId: string, checked?: Checked): Promise<ActivationDto> {
    const input: ActivationInput = {
      activationId,
      userId: request.userId,
      serviceCode: request.serviceCode,
      countryIso: request.countryIso,
      maxPriceMicros: request.maxPriceMicros?.toString() ?? null,
      polling: this.deps.polling,
      quote: checked?.quote,
    };
    const startOptions = {
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
        // The workflow's first phase, set here so its first task need not repeat it (workflows/activation.ts).
        { key: searchAttributes.phase, value: 'BUYING' },
        { key: searchAttributes.phaseSince, value: new Date() },
      ]),
    } satisfies WorkflowStartOptions;
    let view: ActivationView;
    try {
      const events = this.numberEvents;
      view =
        checked && events?.listening()
          ? await this.startAndAwaitNumber(events, startOptions)
          : await this.deps.temporal.workflow.executeUpdateWithStart(awaitNumberUpdate, {
              startWorkflowOperation: new WithStartWorkflowOperation(ACTIVATION_WORKFLOW_TYPE, startOptions),
            });
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      const finished = await this.fromDatabase(activationId);
      if (!finished) throw error;
      return finished;
    }
    const [createdAt, names] = await Promise.all([
      view.createdAt ?? this.deps.readModel.createdAt(activationId),
      checked?.names ?? this.deps.readModel.names(request.serviceCode, request.countryIso),
    ]);
    return withOwner(view, { userId: request.userId, createdAt, ...names });
  }

  /**
   * Starts the workflow and takes its number from the event its purchase step publishes (the
   * same view the awaitNumber update would answer with). Two history events fewer per purchase
   * than update-with-start — the update's accepted and completed — and the answer leaves as soon
   * as the number is recorded, not when the workflow task has completed (issue 11). Should the
   * event not come (Redis lost it, or a twin request started this workflow and it published
   * before we listened), the update answers after NUMBER_EVENT_PATIENCE_MS.
   */
  private async startAndAwaitNumber(events: NumberEvents, options: WorkflowStartOptions): Promise<ActivationView> {
    const published = events.awaitNumber(options.workflowId);
    let patience: NodeJS.Timeout | undefined;
    try {
      const handle = await this.deps.temporal.workflow.start(ACTIVATION_WORKFLOW_TYPE, options);
      const asked = new Promise<ActivationView>((resolve, reject) => {
        patience = setTimeout(() => void this.askForNumber(handle, options.workflowId).then(resolve, reject), NUMBER_EVENT_PATIENCE_MS);
      });
      return await Promise.race([published.record, asked]);
    } finally {
      clearTimeout(patience);
      published.cancel();
    }
  }

  /** The awaitNumber update; if the workflow already ended (a purchase that failed fast), the row it left. */
  private async askForNumber(handle: WorkflowHandle, activationId: string): Promise<ActivationView> {
    try {
      return await handle.executeUpdate(awaitNumberUpdate);
    } catch (error) {
      const row = await this.fromDatabase(activationId);
      if (row && TERMINAL_STATUSES.includes(row.status)) return row;
      throw error;
    }
  }

  /**
   * A user's own activation, from its row: the workflow's record steps write every change there
   * (number, messages, outcome, "another SMS" awaited) before the workflow task that made it
   * completes, so a query would tell no more — only later, at the cost of a round trip to the
   * worker, and of history events too: a query reaching the worker while a task runs its local
   * activity makes that task complete early and a second one run the activity (issue 11).
   */
  async get(activationId: string, userId: string | null): Promise<ActivationDto> {
    const row = await this.fromDatabase(activationId);
    if (!row || (userId !== null && row.userId !== userId)) throw new AppError('NOT_FOUND', 'No such activation.');
    return row;
  }

  list(filter: ActivationListFilter): Promise<ActivationDto[]> {
    return this.deps.readModel.list(filter);
  }

  /** The user's own purchases among `activationIds`, named (for ledger lines). */
  purchaseLabels(userId: string, activationIds: readonly string[]): Promise<Map<string, PurchaseLabel>> {
    return this.deps.readModel.labels(userId, activationIds);
  }

  /**
   * Activations an admin is looking for. "Stuck" comes from two places, each able to see what the
   * other cannot: Temporal visibility (the workflow's phase has been BUYING or CANCELLING — a
   * provider call retrying — for longer than `stuckMinutes`), and the database (RESERVED longer
   * than that, or still open that long past its expiry: the workflow's timers should have closed
   * it). A server without the phase attributes answers with the database's half only.
   */
  async adminSearch(filter: AdminActivationFilter): Promise<{ activations: ActivationDto[]; stuckFrom: StuckSource[] }> {
    if (filter.stuckMinutes === undefined) return { activations: await this.deps.readModel.list(filter), stuckFrom: [] };
    const since = new Date(Date.now() - filter.stuckMinutes * 60_000);
    const stuckFrom: StuckSource[] = ['database'];
    const fromVisibility: string[] = [];
    try {
      const query = `${ACTIVATION_WORKFLOW_TYPES_CLAUSE} AND ExecutionStatus = 'Running' AND ${searchAttributes.phase.name} IN (${STUCK_PHASES.map((p) => `'${p}'`).join(', ')}) AND ${searchAttributes.phaseSince.name} < '${since.toISOString()}'`;
      for await (const execution of this.deps.temporal.workflow.list({ query, pageSize: 200 })) {
        fromVisibility.push(execution.workflowId);
        if (fromVisibility.length >= STUCK_VISIBILITY_LIMIT) break;
      }
      stuckFrom.unshift('visibility');
    } catch (error) {
      // INVALID_ARGUMENT: this server has no phase attributes registered (an older deployment).
      // Then the running workflows themselves are asked: an open activation older than N minutes
      // with a step that has failed at least once and is being retried.
      if (!(error instanceof ServiceError)) throw error;
      const open = await this.deps.readModel.list({ ...filter, status: undefined, to: since, openOnly: true, limit: STUCK_DESCRIBE_LIMIT });
      const described = await Promise.all(
        open.map((a) =>
          this.deps.temporal.workflow
            .getHandle(a.id)
            .describe()
            .then((d) => ((d.raw.pendingActivities ?? []).some((p) => (p.attempt ?? 1) > 1) ? a.id : null), () => null),
        ),
      );
      fromVisibility.push(...described.filter((id): id is string => id !== null));
      stuckFrom.unshift('workflows');
    }
    return { activations: await this.deps.readModel.list({ ...filter, stuck: { since, ids: fromVisibility } }), stuckFrom };
  }

  /**
   * Everything the admin detail page shows about one activation: the row, Temporal's description
   * with its pending activities (attempt, last failure), the history as a timeline, the money
   * movements of its hold, and the link into the Temporal UI.
   */
  async adminDetail(activationId: string): Promise<AdminActivationDetail> {
    const activation = await this.get(activationId, null);
    const handle = this.deps.temporal.workflow.getHandle(activationId);
    const namespace = this.deps.temporal.options.namespace;
    const workflow = await handle.describe().then(
      (d) => ({
        runId: d.runId,
        status: d.status.name,
        taskQueue: d.taskQueue,
        startTime: d.startTime.toISOString(),
        closeTime: d.closeTime?.toISOString() ?? null,
        historyLength: d.historyLength,
        searchAttributes: Object.fromEntries(d.typedSearchAttributes.getAll().map((p) => [p.key.name, p.value instanceof Date ? p.value.toISOString() : p.value])),
        pendingActivities: (d.raw.pendingActivities ?? []).map(pendingActivityView),
      }),
      (error: unknown) => {
        if (error instanceof WorkflowNotFoundError) return null;
        throw error;
      },
    );
    const timeline = workflow ? describeHistory(await handle.fetchHistory()) : [];
    const temporalUiUrl = this.deps.temporalUiUrl
      ? `${this.deps.temporalUiUrl.replace(/\/$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(activationId)}${workflow ? `/${encodeURIComponent(workflow.runId)}` : ''}/history`
      : null;
    return { activation, workflow, timeline, money: await this.deps.wallet.ledgerOfHold(activationId), temporalUiUrl };
  }

  /**
   * Ends the workflow at once, without its compensation (Temporal termination runs no workflow
   * code): for a workflow that cannot make progress at all. What the compensation would have done
   * is done here, durably and idempotently: an open hold is released (the customer is refunded)
   * and the row is closed as FAILED "TERMINATED"; a captured hold stays captured (COMPLETED). The
   * number is not cancelled at the provider: it expires there, or reconciliation finds it.
   * Audited with the reason. Also settles an activation whose workflow already ended without
   * recording it (terminated from the Temporal UI): the row is open, the workflow is not.
   */
  async adminTerminate(activationId: string, reason: string, actor: Actor): Promise<ActivationDto> {
    const current = await this.get(activationId, null);
    const handle = this.deps.temporal.workflow.getHandle(activationId);
    const workflowStatus = await handle.describe().then(
      (d) => d.status.name,
      (error: unknown) => {
        if (error instanceof WorkflowNotFoundError) return 'NOT_FOUND';
        throw error;
      },
    );
    if (workflowStatus === 'RUNNING') await handle.terminate(`admin ${actor.id}: ${reason}`);
    // A workflow that ended without recording its outcome (terminated in the Temporal UI) left its
    // row open and maybe its hold: settled here the same way. Anything else has already ended.
    else if (TERMINAL_STATUSES.includes(current.status)) throw closedError(current, { workflowStatus });
    await this.deps.audit.record({
      action: 'admin.activation.terminate',
      actorId: actor.id,
      targetType: 'activation',
      targetId: activationId,
      ip: actor.ip,
      details: { reason, userId: current.userId, status: current.status, workflowStatus },
    });
    const { wallet } = this.deps;
    let hold = await wallet.findHold(activationId);
    if (hold?.status === 'OPEN') {
      // A capture already running in the worker (an SMS that just arrived) may settle it first: it wins.
      hold = await wallet.release({ key: activationId }).catch(async (error: unknown) => {
        if (error instanceof AppError && error.code === 'HOLD_ALREADY_SETTLED') return wallet.findHold(activationId);
        throw error;
      });
    }
    await this.deps.readModel.closeTerminated(activationId, hold?.status === 'CAPTURED' ? 'COMPLETED' : 'FAILED');
    return this.get(activationId, null);
  }

  /**
   * Retries a stuck step now: Temporal's ResetActivity on every pending activity that has failed
   * at least once — its attempt count starts again at 1 and one waiting out its backoff runs at
   * once. Chosen over a workflow reset (which rewinds the history and re-runs steps already done)
   * and over a signal (which a workflow blocked in an activity would not read until it returns):
   * it touches only the step that is retrying, and every activity is idempotent (a buy first
   * claims what a lost attempt bought). Audited.
   */
  async adminRetryStuckStep(activationId: string, actor: Actor): Promise<{ reset: string[] }> {
    const handle = this.deps.temporal.workflow.getHandle(activationId);
    const description = await handle.describe().catch((error: unknown) => {
      if (error instanceof WorkflowNotFoundError) throw new AppError('NOT_FOUND', 'No such activation workflow.');
      throw error;
    });
    if (description.status.name !== 'RUNNING') throw new AppError('ACTIVATION_CLOSED', 'The workflow has ended: nothing to retry.', { workflowStatus: description.status.name });
    const retrying = (description.raw.pendingActivities ?? []).filter((a) => (a.attempt ?? 1) > 1 || a.lastFailure);
    // The activation's own steps are local activities (no pending activity to reset): between two
    // attempts to reach the provider its workflow pauses in a stuck phase, and the signal ends the pause.
    const phase = description.typedSearchAttributes.get(searchAttributes.phase);
    if (phase === 'ENDED') throw new AppError('ACTIVATION_CLOSED', 'The activation has ended: nothing to retry.');
    const pausing = retrying.length === 0 && phase !== undefined && (STUCK_PHASES as readonly string[]).includes(phase);
    if (retrying.length === 0 && !pausing) throw new AppError('NOTHING_TO_RETRY', 'No step of this activation is retrying right now.');
    const { namespace, identity } = this.deps.temporal.options;
    for (const activity of retrying) {
      await this.deps.temporal.workflowService.resetActivity({
        namespace,
        identity: `${identity} admin ${actor.id}`,
        execution: { workflowId: activationId, runId: description.runId },
        id: activity.activityId,
        resetHeartbeat: false,
        keepPaused: false,
      });
    }
    if (pausing) {
      await handle.signal(retryStuckStepSignal).catch((error: unknown) => {
        // It ended between the description and the signal: nothing left to retry.
        if (error instanceof WorkflowNotFoundError) throw new AppError('ACTIVATION_CLOSED', 'The workflow has ended: nothing to retry.');
        throw error;
      });
    }
    const reset = pausing ? [`${phase} (next attempt now)`] : retrying.map((a) => `${a.activityType?.name ?? '?'}#${a.activityId}`);
    await this.deps.audit.record({ action: 'admin.activation.retry-step', actorId: actor.id, targetType: 'activation', targetId: activationId, ip: actor.ip, details: { reset } });
    return { reset };
  }

  page(filter: ActivationPageFilter): Promise<ActivationPage> {
    return this.deps.readModel.page(filter);
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
    const row = await this.get(activationId, userId);
    if (TERMINAL_STATUSES.includes(row.status)) throw closedError(row);
    for (let attempt = 1; ; attempt++) {
      try {
        const view = await this.deps.temporal.workflow.getHandle(activationId).executeUpdate(update);
        return withOwner(view, row);
      } catch (error) {
        // The workflow task the update arrived in failed — typically because the workflow was
        // completing while another request or a timer arrived, and the server refused the
        // completion: nothing of the update happened, so it is sent again to the next task.
        if (attempt < UPDATE_ATTEMPTS && isWorkflowTaskFailure(error)) continue;
        throw await this.lostRaceOr(activationId, error);
      }
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

/** The value of a settled promise, or its rejection thrown (the first one asked for wins). */
function settled<T>(outcome: PromiseSettledResult<T>): T {
  if (outcome.status === 'rejected') throw outcome.reason;
  return outcome.value;
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

/** More stuck workflows than this is an outage, not a list to page through. */
const STUCK_VISIBILITY_LIMIT = 500;
/** Without the phase attributes, at most this many open activations are asked whether a step is retrying. */
const STUCK_DESCRIBE_LIMIT = 200;
/** Which sources named the stuck activations: visibility (phase attributes), the running workflows (their pending activities), the table. */
export type StuckSource = 'visibility' | 'workflows' | 'database';

export interface AdminActivationFilter extends Omit<ActivationListFilter, 'stuck'> {
  /** Only activations stuck for longer than this many minutes. */
  stuckMinutes?: number;
}

export interface AdminActivationDetail {
  activation: ActivationDto;
  /** Null once Temporal no longer keeps the workflow (past the namespace's retention). */
  workflow: {
    runId: string;
    status: string;
    taskQueue: string;
    startTime: string;
    closeTime: string | null;
    historyLength: number;
    searchAttributes: Record<string, unknown>;
    pendingActivities: PendingActivityView[];
  } | null;
  timeline: TimelineEvent[];
  money: Awaited<ReturnType<WalletService['ledgerOfHold']>>;
  temporalUiUrl: string | null;
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
/** Sends of one customer action while its workflow tasks keep failing under it (isWorkflowTaskFailure). */
const UPDATE_ATTEMPTS = 3;
const GRPC_FAILED_PRECONDITION = 9;

/** The server's answer to an update whose workflow task failed: the update was not applied. */
export function isWorkflowTaskFailure(error: unknown): boolean {
  const cause = error instanceof ServiceError ? (error.cause as { code?: unknown; details?: unknown; message?: unknown } | undefined) : undefined;
  return cause?.code === GRPC_FAILED_PRECONDITION && /workflow task failure/i.test(`${String(cause.details ?? '')} ${String(cause.message ?? '')}`);
}

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
