import { formatSummary, runStorm, type StormSummary } from '../chaos/storm';

/**
 * The short variant of `npm run chaos` (test/chaos/storm.ts): a few dozen purchases by four
 * customers while the harness kills the worker in the middle of a slow buy, makes a provider sell
 * but lose the reply, restarts the Temporal dev server and Redis, and throws provider faults at
 * random — real processes, real kills. It brings up its own database, Temporal and Redis, so it
 * shares nothing with the rest of the run.
 */
jest.setTimeout(300_000);

let summary: StormSummary;

beforeAll(async () => {
  summary = await runStorm({
    customers: 4,
    purchases: 36,
    durationMs: 50_000,
    seed: 20_261_203,
    lifetimeSeconds: 20,
    minCancelSeconds: 3,
    faultGapMs: [1500, 4000],
    firstFaults: ['worker-kill-during-slow-buy', 'provider-sold-but-timed-out', 'temporal-restart', 'redis-restart'],
    settleMs: 45_000,
    log: () => undefined,
  });
  if (summary.discrepancies.length > 0) console.log(formatSummary(summary));
});

test('the storm happened: purchases of every kind, and the scripted faults all hit', () => {
  expect(summary.purchasesStarted).toBeGreaterThanOrEqual(20);
  for (const intent of ['cancel', 'finish', 'another-sms', 'expire']) expect(Object.values(summary.outcomes[intent] ?? {}).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  expect(summary.outcomes.finish?.COMPLETED ?? 0).toBeGreaterThan(0);
  expect(summary.faults['worker-kill-during-slow-buy']).toBeGreaterThanOrEqual(1);
  expect(summary.faults['provider-sold-but-timed-out']).toBeGreaterThanOrEqual(1);
  expect(summary.faults['temporal-restart']).toBeGreaterThanOrEqual(1);
  expect(summary.faults['redis-restart']).toBeGreaterThanOrEqual(1);
  expect(summary.checks.smsDelivered).toBeGreaterThan(0);
});

test('afterwards every wallet matches its ledger and the harness’s credits, with no cent lost or duplicated', () => {
  const { wallets, walletLedgerMismatches, creditMismatches, centsDiscrepancyWallets, centsDiscrepancyMicros, wrongSettlements } = summary.checks;
  expect(wallets).toBe(4);
  expect({ walletLedgerMismatches, creditMismatches, centsDiscrepancyWallets, centsDiscrepancyMicros, wrongSettlements }).toEqual({
    walletLedgerMismatches: 0,
    creditMismatches: 0,
    centsDiscrepancyWallets: 0,
    centsDiscrepancyMicros: 0n,
    wrongSettlements: 0,
  });
});

test('no hold is left open and every activation ended', () => {
  const { openHoldsOnTerminal, openHolds, stuckActivations } = summary.checks;
  expect({ openHoldsOnTerminal, openHolds, stuckActivations }).toEqual({ openHoldsOnTerminal: 0, openHolds: 0, stuckActivations: 0 });
});

test('every number the simulator sold is recorded and settled, or reconciled: no orphan', () => {
  const { orphans, recordedUnsettled, duplicateRecords, phantomRecords, examples } = summary.checks;
  expect({ orphans, recordedUnsettled, duplicateRecords, phantomRecords, examples: examples.orphans ?? [] }).toEqual({
    orphans: 0,
    recordedUnsettled: 0,
    duplicateRecords: 0,
    phantomRecords: 0,
    examples: [],
  });
});

test('every SMS the simulator delivered reached its customer or an incident', () => {
  expect({ smsLost: summary.checks.smsLost, examples: summary.checks.examples.smsLost ?? [] }).toEqual({ smsLost: 0, examples: [] });
});

test('nothing else is off', () => {
  expect(summary.discrepancies).toEqual([]);
});
