import type { Activation, Micros } from '../../ui/types';

/** Shapes of /api/admin as the panel reads them (money: micro-dollar strings). */

export interface AdminUser {
  id: string;
  email: string;
  role: string;
  disabled: boolean;
  availableMicros: Micros;
  heldMicros: Micros;
  createdAt: string;
}

export interface PendingActivity {
  activityId: string;
  type: string;
  state: string;
  attempt: number;
  maximumAttempts: number | null;
  lastStartedAt: string | null;
  nextAttemptAt: string | null;
  lastFailure: { message: string; type: string | null } | null;
}

export interface TimelineEvent {
  id: number;
  at: string | null;
  kind: string;
  title: string;
  detail?: string;
}

export interface MoneyEntry {
  id: string;
  kind: string;
  availableDeltaMicros: Micros;
  heldDeltaMicros: Micros;
  memo: string;
  createdAt: string;
}

export interface ActivationDetail {
  activation: Activation & { userEmail: string | null };
  workflow: {
    runId: string;
    status: string;
    taskQueue: string;
    startTime: string;
    closeTime: string | null;
    historyLength: number;
    searchAttributes: Record<string, unknown>;
    pendingActivities: PendingActivity[];
  } | null;
  timeline: TimelineEvent[];
  money: { hold: { key: string; status: string; amountMicros: Micros; capturedMicros: Micros | null } | null; entries: MoneyEntry[] };
  temporalUiUrl: string | null;
}

export interface ProviderView {
  id: string;
  displayName: string;
  protocol: 'SMS_ACTIVATE' | 'FIVESIM';
  enabled: boolean;
  baseUrl: string;
  hasApiKey: boolean;
  hasWebhookSecret: boolean;
  keyNeedsRotation: boolean;
  usdRate: string;
  markupBps: number;
  lifetimeSeconds: number;
  minCancelSeconds: number;
  countryIds: string;
  breaker: 'closed' | 'open' | 'half-open' | null;
  calls: { count: number; errors: number; errorRate: number; p50LatencyMs: number | null } | null;
  delivery: { bought: number; delivered: number; rate: number | null };
  markupOverrides: { serviceCode: string; countryIso: string; markupBps: number }[];
}

export interface Incident {
  id: string;
  kind: string;
  providerId: string;
  upstreamId: string | null;
  activationId: string | null;
  details: unknown;
  createdAt: string;
  resolvedAt: string | null;
}

export interface AuditEntry {
  id: string;
  action: string;
  actorId: string | null;
  targetType: string | null;
  targetId: string | null;
  ip: string | null;
  details: unknown;
  createdAt: string;
}

export interface MoneyRow {
  bucket: string;
  key: string;
  bought: number;
  sold: number;
  revenueMicros: Micros;
  costMicros: Micros;
  recoveredMicros: Micros;
  marginMicros: Micros;
}

export interface Dashboard {
  activeActivations: number;
  windowMinutes: number;
  purchasesPerMinute: number;
  deliveryRate: number | null;
  smsLatencyMs: { p50: number | null; p95: number | null; samples: number };
  refunds: number;
  failedPurchases: number;
  openIncidents: number;
  series: { minute: string; purchases: number; sms: number; refunds: number; failed: number }[];
  providers: { providerId: string; breaker: string | null; errorRate: number | null; callCount: number; p50LatencyMs: number | null }[];
}

export const percent = (rate: number | null | undefined) => (rate == null ? '—' : `${Math.round(rate * 1000) / 10}%`);
export const millis = (ms: number | null | undefined) => (ms == null ? '—' : ms >= 1000 ? `${Math.round(ms / 100) / 10} s` : `${Math.round(ms)} ms`);
