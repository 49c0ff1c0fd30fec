/**
 * The contract between the API, the worker and the workflows: names, payloads, signals, queries,
 * updates, search attributes and failure types. The API imports this file, never a workflow.
 * Only @temporalio/workflow's definition helpers are used, so it is safe in the workflow sandbox.
 *
 * Money crosses this boundary as decimal strings of micro-dollars: payloads are JSON, and JSON
 * has no bigint.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { defineSearchAttributeKey } from '@temporalio/common';

/** The workflow type of a purchase (workflows/activation.ts). */
export const ACTIVATION_WORKFLOW_TYPE = 'purchase';
/** Purchases started before ACTIVATION_WORKFLOW_TYPE, still finishing on their own type (an older command sequence). */
export const PREVIOUS_ACTIVATION_WORKFLOW_TYPE = 'activation';
/** Purchases started before PREVIOUS_ACTIVATION_WORKFLOW_TYPE, likewise. */
export const LEGACY_ACTIVATION_WORKFLOW_TYPE = 'activationWorkflow';
/** A visibility-query clause matching every purchase workflow, old types and new. */
export const ACTIVATION_WORKFLOW_TYPES_CLAUSE = `WorkflowType IN ('${ACTIVATION_WORKFLOW_TYPE}', '${PREVIOUS_ACTIVATION_WORKFLOW_TYPE}', '${LEGACY_ACTIVATION_WORKFLOW_TYPE}')`;

export type ActivationStatus = 'RESERVED' | 'ACTIVE' | 'COMPLETED' | 'CANCELLED' | 'EXPIRED' | 'FAILED';
export const TERMINAL_STATUSES: readonly ActivationStatus[] = ['COMPLETED', 'CANCELLED', 'EXPIRED', 'FAILED'];

export interface ActivationInput {
  activationId: string;
  userId: string;
  serviceCode: string;
  countryIso: string;
  /** Ceiling the customer accepts; null means "the best price quoted when the workflow starts". */
  maxPriceMicros: string | null;
  polling: { initialMs: number; maxMs: number };
  /**
   * The quote the API checked the balance against (amounts as decimal strings): the hold takes
   * it instead of quoting again. Absent from a joiner's start and from older purchases.
   */
  quote?: ActivationQuote;
}

/** What a purchase may hold and whom it may buy from, ranked (src/catalog/catalog.service.ts quote()). */
export interface ActivationQuote {
  holdMicros: string;
  candidates: PurchaseCandidate[];
}

/** One offer a purchase may buy, as quoted (amounts as decimal strings). */
export interface PurchaseCandidate {
  offerId: string;
  providerId: string;
  upstreamService: string;
  upstreamCountry: string;
  costMicros: string;
  sellMicros: string;
}

export interface SmsView {
  seq: number;
  code: string | null;
  text: string;
  receivedAt: string;
}

export interface ActivationView {
  id: string;
  status: ActivationStatus;
  serviceCode: string;
  countryIso: string;
  providerId: string | null;
  phone: string | null;
  heldMicros: string | null;
  priceMicros: string | null;
  expiresAt: string | null;
  cancelAllowedAt: string | null;
  failureReason: string | null;
  messages: SmsView[];
  /** Which customer actions the workflow would accept right now (the UI enables buttons from these). */
  actions: { cancel: boolean; retry: boolean; finish: boolean };
  /**
   * Who bought it and when its row was created, so the API's answer and the record steps need not
   * read them back; absent in views of workflows whose reservation predates them.
   */
  userId?: string;
  createdAt?: string;
}

/** An SMS as seen by a webhook, an inbox poller or the workflow's own fallback poll. */
export interface IncomingSms {
  code: string | null;
  text: string;
  receivedAt: string;
  source: 'webhook' | 'poll' | 'inbox';
}

export const smsReceivedSignal = defineSignal<[IncomingSms]>('smsReceived');
/**
 * An operator's "retry the stuck step now" (admin panel): a workflow pausing between attempts to
 * give a number back asks the provider again at once. The steps are local activities, which
 * Temporal's ResetActivity cannot reach.
 */
export const retryStuckStepSignal = defineSignal('retryStuckStep');
export const getActivationQuery = defineQuery<ActivationView>('getActivation');

/**
 * Returns once the number is bought (ACTIVE) or the purchase ended: the API's fallback when the
 * number's published event does not reach it, and (with start) how a joining request waits.
 */
export const awaitNumberUpdate = defineUpdate<ActivationView>('awaitNumber');
export const cancelActivationUpdate = defineUpdate<ActivationView>('cancelActivation');
export const requestAnotherSmsUpdate = defineUpdate<ActivationView>('requestAnotherSms');
export const finishActivationUpdate = defineUpdate<ActivationView>('finishActivation');

/**
 * Custom search attributes: registered on the dev server by src/temporal/dev-server.ts (each with
 * its type), queried by ops in the Temporal UI (README "Ops in the Temporal UI") and by the admin
 * panel. `phase` and `phaseSince` change together, in one upsert, so "stuck" is one filter:
 * `SimGatePhase IN ('BUYING','CANCELLING') AND SimGatePhaseSince < <now - N min>`.
 */
export const searchAttributes = {
  status: defineSearchAttributeKey('SimGateStatus', 'KEYWORD'),
  userId: defineSearchAttributeKey('SimGateUserId', 'KEYWORD'),
  providerId: defineSearchAttributeKey('SimGateProvider', 'KEYWORD'),
  serviceCode: defineSearchAttributeKey('SimGateService', 'KEYWORD'),
  countryIso: defineSearchAttributeKey('SimGateCountry', 'KEYWORD'),
  phase: defineSearchAttributeKey('SimGatePhase', 'KEYWORD'),
  phaseSince: defineSearchAttributeKey('SimGatePhaseSince', 'DATETIME'),
} as const;

/**
 * What an activation is doing now, finer than its status (ACTIVE covers waiting, code received
 * and a cancel the provider keeps refusing):
 *   BUYING        funds being held and a number bought (a provider call retrying stays here)
 *   WAITING_SMS   bought and live: waiting for the first SMS, another one, the customer's finish or the expiry
 *   CODE_RECEIVED (the `activation` type only) an SMS is in and paid for; `purchase` leaves the phase
 *                 as it is, for no decision of ops rests on it (the admin panel shows the SMS)
 *   CANCELLING    the provider refused or failed to take the number back, and the workflow keeps asking
 *   ENDED         closed: completed, cancelled, expired or failed (SimGateStatus says which)
 */
export const ACTIVATION_PHASES = ['BUYING', 'WAITING_SMS', 'CODE_RECEIVED', 'CANCELLING', 'ENDED'] as const;
export type ActivationPhase = (typeof ACTIVATION_PHASES)[number];
/** Phases in which a long stay means something is stuck (a provider call retrying, a refused cancel). */
export const STUCK_PHASES: readonly ActivationPhase[] = ['BUYING', 'CANCELLING'];

/**
 * Every failure SimGate names, in one place: the code is what an API client sees and what a
 * Temporal ApplicationFailure's `type` carries; `retryable` decides whether an activity that
 * failed with it is tried again. Retryability belongs to the failure, never to an HTTP status:
 * the HTTP meaning of each code is one table at the edge (src/http/middleware/errors.ts), and the
 * compiler makes both tables list every code.
 */
export const failures = {
  // request shape (the HTTP edge)
  VALIDATION_ERROR: { retryable: false },
  MALFORMED_JSON: { retryable: false },
  PAYLOAD_TOO_LARGE: { retryable: false },
  BAD_REQUEST: { retryable: false },
  ROUTE_NOT_FOUND: { retryable: false },
  /** A known path asked with a method it does not answer (the Allow header lists those it does). */
  METHOD_NOT_ALLOWED: { retryable: false },
  INVALID_AMOUNT: { retryable: false },
  INVALID_LIMIT: { retryable: false },
  INVALID_IDEMPOTENCY_KEY: { retryable: false },
  INVALID_ACTOR_ID: { retryable: false },
  IDEMPOTENCY_KEY_REUSED: { retryable: false },
  /** The database refused a value itself (a NUL byte, a number out of range): the same write can never succeed. */
  DATA_INVALID: { retryable: false },
  INTERNAL: { retryable: true },
  /** A request string holding U+0000, another control but tab/newline/CR, or half a surrogate pair (src/lib/text.ts). */
  INVALID_TEXT: { retryable: false },

  // accounts and request security
  UNAUTHORIZED: { retryable: false },
  FORBIDDEN: { retryable: false },
  INVALID_CREDENTIALS: { retryable: false },
  EMAIL_TAKEN: { retryable: false },
  LOGIN_LOCKED: { retryable: false },
  RATE_LIMITED: { retryable: false },
  REFRESH_INVALID: { retryable: false },
  REFRESH_REUSED: { retryable: false },
  CSRF_INVALID: { retryable: false },
  TOKEN_INVALID: { retryable: false },
  TOTP_REQUIRED: { retryable: false },
  TOTP_INVALID: { retryable: false },
  TOTP_CONFIRMATION_INVALID: { retryable: false },
  TOTP_ALREADY_ENABLED: { retryable: false },
  TOTP_NOT_ENROLLED: { retryable: false },
  TOTP_NOT_ENABLED: { retryable: false },
  API_KEY_REQUIRED: { retryable: false },
  API_KEY_INVALID: { retryable: false },
  API_KEY_NOT_FOUND: { retryable: false },
  INSUFFICIENT_SCOPE: { retryable: false },
  TOO_MANY_API_KEYS: { retryable: false },
  SIGNATURE_INVALID: { retryable: false },
  SIGNATURE_EXPIRED: { retryable: false },
  NONCE_REUSED: { retryable: false },
  WEBHOOK_UNAUTHORIZED: { retryable: false },
  WEBHOOK_URL_INVALID: { retryable: false },
  /** A replay asked of an endpoint that is switched off (by the partner, or after a day of failures). */
  WEBHOOK_DISABLED: { retryable: false },

  // catalog
  UNKNOWN_SERVICE: { retryable: false },
  UNKNOWN_COUNTRY: { retryable: false },
  NO_OFFERS: { retryable: false },
  MAX_PRICE_TOO_LOW: { retryable: false },
  /** Every provider's breaker is open: a moment later one may be half-open again. */
  PROVIDERS_UNAVAILABLE: { retryable: true },

  // wallet
  USER_NOT_FOUND: { retryable: false },
  WALLET_NOT_FOUND: { retryable: false },
  INSUFFICIENT_FUNDS: { retryable: false },
  HOLD_NOT_FOUND: { retryable: false },
  HOLD_ALREADY_SETTLED: { retryable: false },
  /** Another transaction holds the row lock: the next attempt gets it. */
  HOLD_BUSY: { retryable: true },
  /** A wallet disagrees with its ledger: retried so money is never left half-moved while ops look. */
  LEDGER_INCONSISTENT: { retryable: true },

  // activations: the purchase and the customer's actions (update validators)
  NOT_FOUND: { retryable: false },
  NO_NUMBERS: { retryable: false },
  PURCHASE_FAILED: { retryable: false },
  CANCEL_TOO_EARLY: { retryable: false },
  SMS_ALREADY_RECEIVED: { retryable: false },
  NO_SMS_YET: { retryable: false },
  ALREADY_AWAITING_SMS: { retryable: false },
  ACTIVATION_CLOSED: { retryable: false },
  ACTIVATION_NOT_READY: { retryable: false },
  ACTION_IN_PROGRESS: { retryable: false },
  /** An admin asked to retry a stuck step of an activation none of whose steps is retrying. */
  NOTHING_TO_RETRY: { retryable: false },
  /** The provider refused a customer's action after its own retries. */
  PROVIDER_ERROR: { retryable: false },

  // upstream providers (activities; one per ProviderError kind)
  PROVIDER_NO_NUMBERS: { retryable: false },
  PROVIDER_REJECTED: { retryable: false },
  PROVIDER_EARLY_CANCEL: { retryable: false },
  PROVIDER_HAS_SMS: { retryable: false },
  PROVIDER_TRANSIENT: { retryable: true },

  // providers and incidents (admin)
  PROVIDER_NOT_FOUND: { retryable: false },
  PROVIDER_EXISTS: { retryable: false },
  INCIDENT_NOT_FOUND: { retryable: false },

  // top-ups and coupons (src/payments)
  TOPUP_NOT_FOUND: { retryable: false },
  TOPUP_BELOW_MINIMUM: { retryable: false },
  TOPUP_ABOVE_MAXIMUM: { retryable: false },
  TOPUP_DAILY_LIMIT: { retryable: false },
  /** The processor named is not configured here (or the sandbox in production). */
  PROCESSOR_UNAVAILABLE: { retryable: false },
  /** The processor refused the request itself (bad parameters, account not allowed). */
  PROCESSOR_REJECTED: { retryable: false },
  /** The processor did not answer or answered 5xx/429: asked again. */
  PROCESSOR_TRANSIENT: { retryable: true },
  /** A callback whose signature does not verify (forged, or signed with another secret). */
  PAYMENT_CALLBACK_INVALID: { retryable: false },
  /** The processor cannot refund this payment through its API. */
  REFUND_UNSUPPORTED: { retryable: false },
  TOPUP_NOT_REFUNDABLE: { retryable: false },
  COUPON_NOT_FOUND: { retryable: false },
  COUPON_EXPIRED: { retryable: false },
  COUPON_EXHAUSTED: { retryable: false },
  COUPON_LIMIT_REACHED: { retryable: false },
  COUPON_MIN_AMOUNT: { retryable: false },
  COUPON_EXISTS: { retryable: false },
} as const satisfies Record<string, { retryable: boolean }>;

export type FailureCode = keyof typeof failures;

export function isFailureCode(value: unknown): value is FailureCode {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(failures, value);
}

/** What activity retry policies list as `nonRetryableErrorTypes`. */
export const NON_RETRYABLE_FAILURES: readonly FailureCode[] = (Object.keys(failures) as FailureCode[]).filter((code) => !failures[code].retryable);

/** Names for the codes the workflows and activities use most. */
export const FailureType = {
  // refused customer actions (update validators)
  CancelTooEarly: 'CANCEL_TOO_EARLY',
  SmsAlreadyReceived: 'SMS_ALREADY_RECEIVED',
  NoSmsYet: 'NO_SMS_YET',
  AlreadyAwaitingSms: 'ALREADY_AWAITING_SMS',
  ActivationClosed: 'ACTIVATION_CLOSED',
  NotReady: 'ACTIVATION_NOT_READY',
  ActionInProgress: 'ACTION_IN_PROGRESS',
  ProviderError: 'PROVIDER_ERROR',
  // activities
  InsufficientFunds: 'INSUFFICIENT_FUNDS',
  NoOffers: 'NO_OFFERS',
  HoldSettled: 'HOLD_ALREADY_SETTLED',
  ProviderNoNumbers: 'PROVIDER_NO_NUMBERS',
  ProviderRejected: 'PROVIDER_REJECTED',
  ProviderEarlyCancel: 'PROVIDER_EARLY_CANCEL',
  ProviderHasSms: 'PROVIDER_HAS_SMS',
  ProviderTransient: 'PROVIDER_TRANSIENT',
  DataInvalid: 'DATA_INVALID',
} as const satisfies Record<string, FailureCode>;
export type FailureType = (typeof FailureType)[keyof typeof FailureType];

// ─── Periodic work: catalog sync (a Schedule) and provider inboxes (long-running) ──────────────

export const CATALOG_SYNC_WORKFLOW_TYPE = 'catalogSyncWorkflow';
/** The one Schedule that starts catalogSyncWorkflow (src/temporal/schedules.ts). */
export const CATALOG_SYNC_SCHEDULE_ID = 'catalog-sync';

export interface CatalogSyncResult {
  /** Providers whose offers were pulled and upserted, in the order they were listed. */
  synced: { providerId: string; upserted: number; skipped: number }[];
  /** Providers whose sync failed after its retries; the others were synced regardless. */
  failed: { providerId: string; type: string | null; message: string }[];
  /** Whether the search index was refreshed afterwards (searches see the previous index if not). */
  indexed: boolean;
}

export const PROVIDER_INBOX_WORKFLOW_TYPE = 'providerInboxWorkflow';
/** One inbox poller per provider, so starting it twice finds the running one. */
export const providerInboxWorkflowId = (providerId: string) => `provider-inbox-${providerId}`;

/** Activation id → `<number of codes>:<newest code>` last signalled to it; only activations the provider still lists. */
export type InboxSignalled = Record<string, string>;

export interface ProviderInboxInput {
  providerId: string;
  /** Pause between two polls of the provider's active activations; default 5000. */
  intervalMs?: number;
  /** Polls per run before continue-as-new (also when the server suggests it); default 500. */
  maxIterations?: number;
  /** Carried over continue-as-new. */
  lastSignalled?: InboxSignalled;
  /** How often the poller reconciles the provider's open sales with our records; default 60000. */
  reconcileEveryMs?: number;
  /** How long a number nobody claims may stay open before it is settled as an orphan; default 120000. */
  orphanGraceMs?: number;
  /** Carried over continue-as-new. */
  suspects?: OrphanSuspects;
}

/** Upstream id → when reconciliation first saw it open at the provider and owned by nobody (epoch ms). */
export type OrphanSuspects = Record<string, number>;

export interface ReconcileResult {
  suspects: OrphanSuspects;
  /** Orphans handled by this pass, by what became of them. */
  cancelled: number;
  withSms: number;
  pending: number;
}

export interface ProviderInboxState {
  providerId: string;
  /** Polls done in this run. */
  iterations: number;
  /** SMS signalled to activation workflows in this run. */
  signalled: number;
  consecutiveFailures: number;
  lastSignalled: InboxSignalled;
  suspects: OrphanSuspects;
  /** Orphan numbers this run cancelled at the provider (cost recovered) or found with an SMS (a loss). */
  orphansCancelled: number;
  orphansWithSms: number;
}

export const getProviderInboxQuery = defineQuery<ProviderInboxState>('getProviderInbox');

// ─── Top-ups (src/payments): one workflow per top-up, id = the top-up id ──────────────────────

export const TOPUP_WORKFLOW_TYPE = 'topupWorkflow';

export type TopupStatus = 'CREATED' | 'AWAITING_PAYMENT' | 'CONFIRMED' | 'CREDITED' | 'EXPIRED' | 'FAILED';

export interface TopupInput {
  topupId: string;
  /** How often the workflow asks the processor itself when no callback came (doubling up to maxMs). */
  polling: { initialMs: number; maxMs: number };
  /** How long past the payment's expiry a payment seen arriving (confirming, partly paid) is still waited for. */
  settleGraceMs: number;
}

/** What the processor says of a payment, as the workflow needs it. */
export type PaymentState = 'pending' | 'confirming' | 'partial' | 'paid' | 'expired' | 'failed';

export interface TopupCheck {
  state: PaymentState;
  /** The payment's expiry at the processor (ISO). */
  expiresAt: string;
}

export interface TopupResult {
  status: TopupStatus;
  creditedMicros: string | null;
}

/** "Something happened at the processor": a verified callback. The workflow then asks the processor, so order and copies do not matter. */
export const paymentNoticeSignal = defineSignal<[{ source: 'callback' | 'sandbox'; eventType: string }]>('paymentNotice');
export const getTopupQuery = defineQuery<{ status: TopupStatus; checks: number; lastState: PaymentState | null }>('getTopup');
// ─── Partner webhooks: one delivery workflow per endpoint (activities/webhooks.ts) ─────────────

export const WEBHOOK_DELIVERY_WORKFLOW_TYPE = 'webhookDeliveryWorkflow';
/** One workflow per partner endpoint: signal-with-start finds the running one. */
export const webhookDeliveryWorkflowId = (webhookId: string) => `partner-webhook-${webhookId}`;

/** One event to deliver; its body is in webhook_deliveries. */
export interface WebhookEventRef {
  eventId: string;
  /** 0 when first enqueued, bumped by each replay; a signal for an older generation is a no-op. */
  generation: number;
  /** Events of one lane (an activation) are delivered one after the other, in the order enqueued. */
  lane: string;
}

export interface WebhookRetryPolicy {
  /** First pause after a failed attempt; doubles up to maxMs. */
  initialMs: number;
  maxMs: number;
  /** An event still failing this long after its first attempt is given up (FAILED, replayable). */
  giveUpAfterMs: number;
  /** An endpoint failing without a single success this long is disabled, with a notice. */
  disableAfterMs: number;
}

export const DEFAULT_WEBHOOK_RETRY: WebhookRetryPolicy = {
  initialMs: 10_000,
  maxMs: 60 * 60_000,
  giveUpAfterMs: 25 * 60 * 60_000,
  disableAfterMs: 24 * 60 * 60_000,
};

export interface WebhookDeliveryInput {
  webhookId: string;
  retry: WebhookRetryPolicy;
  /** How long the workflow waits for an event before it ends (the next event starts a new run). Default one hour. */
  idleMs?: number;
  /** Carried over continue-as-new. */
  pending?: WebhookEventRef[];
  /** Workflow time (epoch ms) of the first failure since the last success; carried over continue-as-new. */
  failingSince?: number | null;
}

export interface WebhookDeliveryState {
  webhookId: string;
  /** Events waiting or being delivered, by lane. */
  queued: number;
  delivered: number;
  failed: number;
  failingSince: number | null;
  disabled: boolean;
}

export type WebhookAttemptOutcome = 'delivered' | 'failed' | 'skipped';

export const webhookEventSignal = defineSignal<[WebhookEventRef]>('webhookEvent');
export const getWebhookDeliveryQuery = defineQuery<WebhookDeliveryState>('getWebhookDelivery');
