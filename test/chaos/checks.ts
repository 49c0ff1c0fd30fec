import { Client } from 'pg';
import { call } from './http';

/**
 * The end-to-end invariants after the storm, computed from three independent records: our
 * database (wallets, ledger, holds, activations, SMS, incidents), the simulator's own list of
 * every number it sold (its control API, which shares no code with SimGate), and the harness's
 * record of what it credited.
 */
export interface Checks {
  wallets: number;
  /** available/held differ from the sums of the wallet's ledger entries. */
  walletLedgerMismatches: number;
  /** The wallet's CREDIT entries differ from what the harness credited through the admin API. */
  creditMismatches: number;
  /** Wallets where credited − captured − available − held ≠ 0, and the sum of |difference| in micros. */
  centsDiscrepancyWallets: number;
  centsDiscrepancyMicros: bigint;
  /** Terminal activations charged without an SMS, or with an SMS but not charged their price. */
  wrongSettlements: number;
  openHoldsOnTerminal: number;
  /** Holds still open / activations not terminal after the settle period. */
  openHolds: number;
  stuckActivations: number;
  /** Numbers the simulator sold. */
  upstreamSold: number;
  recordedAndSettled: number;
  recordedUnsettled: number;
  /** Not recorded by any activation, but an incident names it. */
  reconciledByIncident: number;
  /** Not recorded, no incident, but cancelled at the provider before its expiry: cost recovered. */
  cancelledUnrecorded: number;
  /** Sold, never recorded, no incident, not cancelled by a call: the leak. */
  orphans: number;
  orphansCharged: number;
  orphansExpiredAtProvider: number;
  orphansStillOpen: number;
  /** One upstream number recorded by several activations. */
  duplicateRecords: number;
  /** An activation names an upstream number the simulator never sold. */
  phantomRecords: number;
  smsDelivered: number;
  smsReachedCustomer: number;
  smsReachedIncident: number;
  /** Delivered by the simulator, seen neither by the customer nor in an incident. */
  smsLost: number;
  /** A few examples of each problem, for the log. */
  examples: Record<string, string[]>;
}

/** The keys whose non-zero value is a discrepancy (the harness exits non-zero on any). */
export const DISCREPANCY_KEYS = [
  'walletLedgerMismatches',
  'creditMismatches',
  'centsDiscrepancyWallets',
  'wrongSettlements',
  'openHoldsOnTerminal',
  'openHolds',
  'stuckActivations',
  'recordedUnsettled',
  'orphans',
  'duplicateRecords',
  'phantomRecords',
  'smsLost',
] as const satisfies readonly (keyof Checks)[];

export function discrepancies(checks: Checks): string[] {
  return DISCREPANCY_KEYS.filter((key) => checks[key] !== 0).map((key) => `${key}=${checks[key]}`);
}

const TERMINAL = new Set(['COMPLETED', 'CANCELLED', 'EXPIRED', 'FAILED']);

interface SimActivationView {
  id: number;
  phone: string;
  state: string;
  sms: { code: string }[];
  lateSms: { code: string }[];
  expiresAt: string;
  endedAt: string | null;
}

export interface CheckInput {
  databaseUrl: string;
  simulatorUrl: string;
  /** Simulator tenant id → our provider id. */
  tenants: Record<string, string>;
  /** Harness-credited micros per user id. */
  credited: ReadonlyMap<string, bigint>;
}

/** Cancelled by a call (ours) rather than ended by the provider's clock. */
function cancelledByCall(activation: SimActivationView): boolean {
  if (activation.state === 'CANCELED') return true; // 5sim: expiry is TIMEOUT
  return activation.state === 'CANCELLED' && activation.endedAt !== null && Date.parse(activation.endedAt) < Date.parse(activation.expiresAt);
}

function charged(activation: SimActivationView): boolean {
  return activation.sms.length > 0;
}

function endedAtProvider(activation: SimActivationView): boolean {
  return activation.endedAt !== null;
}

export async function inspect(input: CheckInput): Promise<Checks> {
  const db = new Client({ connectionString: input.databaseUrl });
  await db.connect();
  const examples: Record<string, string[]> = {};
  const note = (kind: string, text: string) => {
    const list = (examples[kind] ??= []);
    if (list.length < 5) list.push(text);
  };
  try {
    const wallets = (
      await db.query<{ user_id: string; available: string; held: string; ledger_available: string; ledger_held: string; credits: string; captured: string }>(`
        SELECT w.user_id, w.available::text, w.held::text,
               COALESCE((SELECT SUM(e.available_delta) FROM ledger_entries e WHERE e.wallet_id = w.id), 0)::text AS ledger_available,
               COALESCE((SELECT SUM(e.held_delta) FROM ledger_entries e WHERE e.wallet_id = w.id), 0)::text AS ledger_held,
               COALESCE((SELECT SUM(e.available_delta) FROM ledger_entries e WHERE e.wallet_id = w.id AND e.kind = 'CREDIT'), 0)::text AS credits,
               COALESCE((SELECT SUM(h.captured_amount) FROM holds h WHERE h.wallet_id = w.id AND h.status = 'CAPTURED'), 0)::text AS captured
        FROM wallets w`)
    ).rows;
    let walletLedgerMismatches = 0;
    let creditMismatches = 0;
    let centsDiscrepancyWallets = 0;
    let centsDiscrepancyMicros = 0n;
    let customerWallets = 0;
    for (const wallet of wallets) {
      const available = BigInt(wallet.available);
      const held = BigInt(wallet.held);
      if (available !== BigInt(wallet.ledger_available) || held !== BigInt(wallet.ledger_held)) {
        walletLedgerMismatches += 1;
        note('walletLedgerMismatches', `${wallet.user_id}: wallet ${available}/${held}, ledger ${wallet.ledger_available}/${wallet.ledger_held}`);
      }
      const credited = input.credited.get(wallet.user_id);
      if (credited === undefined) continue;
      customerWallets += 1;
      if (BigInt(wallet.credits) !== credited) {
        creditMismatches += 1;
        note('creditMismatches', `${wallet.user_id}: credited ${credited}, ledger credits ${wallet.credits}`);
      }
      const difference = credited - BigInt(wallet.captured) - available - held;
      if (difference !== 0n) {
        centsDiscrepancyWallets += 1;
        centsDiscrepancyMicros += difference < 0n ? -difference : difference;
        note('centsDiscrepancyWallets', `${wallet.user_id}: credited ${credited} − captured ${wallet.captured} − available ${available} − held ${held} = ${difference}`);
      }
    }

    const activations = (
      await db.query<{ id: string; status: string; price_micros: string | null; provider_id: string | null; upstream_id: string | null; hold_status: string | null; captured_amount: string | null; sms: string }>(`
        SELECT a.id, a.status, a.price_micros::text, a.provider_id, a.upstream_id, h.status AS hold_status, h.captured_amount::text,
               (SELECT COUNT(*) FROM sms_messages m WHERE m.activation_id = a.id)::text AS sms
        FROM activations a LEFT JOIN holds h ON h.key = a.id`)
    ).rows;
    let wrongSettlements = 0;
    let openHoldsOnTerminal = 0;
    let stuckActivations = 0;
    const recorded = new Map<string, typeof activations>();
    for (const row of activations) {
      const terminal = TERMINAL.has(row.status);
      if (!terminal) {
        stuckActivations += 1;
        note('stuckActivations', `${row.id} ${row.status}`);
      }
      if (terminal && row.hold_status === 'OPEN') {
        openHoldsOnTerminal += 1;
        note('openHoldsOnTerminal', `${row.id} ${row.status}`);
      }
      if (terminal && row.hold_status !== null && row.hold_status !== 'OPEN') {
        const withSms = Number(row.sms) > 0;
        const right = withSms ? row.hold_status === 'CAPTURED' && row.captured_amount === row.price_micros : row.hold_status === 'RELEASED';
        if (!right) {
          wrongSettlements += 1;
          note('wrongSettlements', `${row.id} ${row.status} sms=${row.sms} hold=${row.hold_status} captured=${row.captured_amount} price=${row.price_micros}`);
        }
      }
      if (row.provider_id && row.upstream_id) {
        const key = `${row.provider_id}|${row.upstream_id}`;
        recorded.set(key, [...(recorded.get(key) ?? []), row]);
      }
    }
    const openHolds = Number((await db.query<{ n: string }>(`SELECT COUNT(*)::text AS n FROM holds WHERE status = 'OPEN'`)).rows[0].n);

    const incidents = new Set(
      (await db.query<{ provider_id: string; upstream_id: string | null }>('SELECT provider_id, upstream_id FROM upstream_incidents')).rows
        .filter((row) => row.upstream_id !== null)
        .map((row) => `${row.provider_id}|${row.upstream_id}`),
    );
    const codes = new Map<string, Set<string>>();
    for (const row of (
      await db.query<{ provider_id: string; upstream_id: string; code: string | null; text: string }>(
        'SELECT a.provider_id, a.upstream_id, m.code, m.text FROM sms_messages m JOIN activations a ON a.id = m.activation_id WHERE a.upstream_id IS NOT NULL',
      )
    ).rows) {
      const key = `${row.provider_id}|${row.upstream_id}`;
      const set = codes.get(key) ?? new Set<string>();
      if (row.code) set.add(row.code);
      set.add(row.text);
      codes.set(key, set);
    }

    const counts = {
      upstreamSold: 0,
      recordedAndSettled: 0,
      recordedUnsettled: 0,
      reconciledByIncident: 0,
      cancelledUnrecorded: 0,
      orphans: 0,
      orphansCharged: 0,
      orphansExpiredAtProvider: 0,
      orphansStillOpen: 0,
      duplicateRecords: 0,
      smsDelivered: 0,
      smsReachedCustomer: 0,
      smsReachedIncident: 0,
      smsLost: 0,
    };
    const sold = new Set<string>();
    for (const [tenant, providerId] of Object.entries(input.tenants)) {
      const reply = await call<{ activations: SimActivationView[] }>(input.simulatorUrl, 'GET', `/control/${tenant}/activations`, { timeoutMs: 60_000 });
      if (reply.status !== 200) throw new Error(`simulator ${tenant} activations: HTTP ${reply.status}`);
      for (const activation of reply.body.activations) {
        const key = `${providerId}|${activation.id}`;
        sold.add(key);
        counts.upstreamSold += 1;
        const rows = recorded.get(key) ?? [];
        if (rows.length > 1) {
          counts.duplicateRecords += 1;
          note('duplicateRecords', `${key}: ${rows.map((row) => row.id).join(', ')}`);
        }
        if (rows.length > 0) {
          if (rows.every((row) => TERMINAL.has(row.status) && row.hold_status !== 'OPEN')) counts.recordedAndSettled += 1;
          else {
            counts.recordedUnsettled += 1;
            note('recordedUnsettled', `${key}: ${rows.map((row) => `${row.id} ${row.status} hold=${row.hold_status}`).join(', ')}`);
          }
        } else if (incidents.has(key)) counts.reconciledByIncident += 1;
        else if (cancelledByCall(activation)) counts.cancelledUnrecorded += 1;
        else {
          counts.orphans += 1;
          if (charged(activation)) counts.orphansCharged += 1;
          else if (endedAtProvider(activation)) counts.orphansExpiredAtProvider += 1;
          else counts.orphansStillOpen += 1;
          note('orphans', `${key} ${activation.phone} ${activation.state} sms=${activation.sms.length}`);
        }
        const seen = codes.get(key);
        for (const sms of [...activation.sms, ...activation.lateSms]) {
          counts.smsDelivered += 1;
          if (seen?.has(sms.code)) counts.smsReachedCustomer += 1;
          else if (incidents.has(key)) counts.smsReachedIncident += 1;
          else {
            counts.smsLost += 1;
            note('smsLost', `${key} code ${sms.code} (${rows.length ? `activation ${rows[0].id} ${rows[0].status}` : 'no activation'})`);
          }
        }
      }
    }
    let phantomRecords = 0;
    for (const key of recorded.keys()) {
      if (!sold.has(key)) {
        phantomRecords += 1;
        note('phantomRecords', key);
      }
    }

    return {
      wallets: customerWallets,
      walletLedgerMismatches,
      creditMismatches,
      centsDiscrepancyWallets,
      centsDiscrepancyMicros,
      wrongSettlements,
      openHoldsOnTerminal,
      openHolds,
      stuckActivations,
      ...counts,
      phantomRecords,
      examples,
    };
  } finally {
    await db.end();
  }
}
