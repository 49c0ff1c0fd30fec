import { Gauge, type Registry } from 'prom-client';
import type { Db } from '../db/client';
import type { ProviderHealth } from '../providers/health';
import type { WalletService } from '../wallet';

/** How long past its expiry an open activation may stay before it counts as stuck (the workflow's timers should have closed it). */
const STUCK_AFTER_MS = 5 * 60_000;

/**
 * Business gauges read from the database (and the breakers from Redis) when Prometheus scrapes:
 * the durable state every API process agrees on, so any process answers the same and nothing is
 * lost on restart. Per-event counters (purchases by outcome, provider call latency) belong in the
 * worker, where the events happen; these are what the alert rules in ops/alerts.yml watch.
 */
export function registerBusinessMetrics(registry: Registry, deps: { db: Db; wallet: WalletService; health?: ProviderHealth }): void {
  const { db } = deps;
  new Gauge({
    name: 'simgate_activations',
    help: 'Activations by status',
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const row of await db.activation.groupBy({ by: ['status'], _count: { _all: true } })) this.set({ status: row.status }, row._count._all);
    },
  });
  new Gauge({
    name: 'simgate_activations_stuck',
    help: `Open (RESERVED/ACTIVE) activations more than ${STUCK_AFTER_MS / 60_000} minutes past their expiry`,
    registers: [registry],
    async collect() {
      this.set(await db.activation.count({ where: { status: { in: ['RESERVED', 'ACTIVE'] }, expiresAt: { lt: new Date(Date.now() - STUCK_AFTER_MS) } } }));
    },
  });
  new Gauge({
    name: 'simgate_ledger_entries',
    help: 'Ledger entries by kind (CAPTURE = paid purchases, RELEASE = refunds of held funds)',
    labelNames: ['kind'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const row of await db.ledgerEntry.groupBy({ by: ['kind'], _count: { _all: true } })) this.set({ kind: row.kind }, row._count._all);
    },
  });
  new Gauge({
    name: 'simgate_wallet_micros',
    help: 'Sum over all wallets, in micro-dollars (available and held)',
    labelNames: ['kind'],
    registers: [registry],
    async collect() {
      const { _sum } = await db.wallet.aggregate({ _sum: { available: true, held: true } });
      // Micro-dollars fit a double exactly up to 2^53 (9 billion dollars).
      this.set({ kind: 'available' }, Number(_sum.available ?? 0n));
      this.set({ kind: 'held' }, Number(_sum.held ?? 0n));
    },
  });
  new Gauge({
    name: 'simgate_ledger_invariant_violations',
    help: 'Wallets whose balances disagree with their ledger (must be 0)',
    registers: [registry],
    async collect() {
      this.set((await deps.wallet.checkInvariants()).length);
    },
  });
  new Gauge({
    name: 'simgate_open_incidents',
    help: 'Unresolved upstream incidents by kind (orphan numbers, late SMS …)',
    labelNames: ['kind'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const row of await db.upstreamIncident.groupBy({ by: ['kind'], where: { resolvedAt: null }, _count: { _all: true } })) this.set({ kind: row.kind }, row._count._all);
    },
  });
  const { health } = deps;
  if (health) {
    new Gauge({
      name: 'simgate_provider_breaker_open',
      help: 'Circuit breaker per enabled provider: 1 open, 0.5 half-open, 0 closed',
      labelNames: ['provider'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const { id } of await db.provider.findMany({ where: { enabled: true }, select: { id: true } })) {
          const state = await health.state(id).catch(() => null);
          if (state) this.set({ provider: id }, state === 'open' ? 1 : state === 'half-open' ? 0.5 : 0);
        }
      },
    });
  }
}
