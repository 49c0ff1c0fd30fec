import { DEFAULT_OPTIONS, FAULT_KINDS, formatSummary, runStorm, type FaultKind, type StormOptions } from './storm';

/**
 * `npm run chaos [-- --customers 12 --purchases 2000 --duration 1200 --seed 7 --settle 150 --keep]`
 * (or CHAOS_CUSTOMERS, CHAOS_PURCHASES, CHAOS_DURATION_SECONDS, CHAOS_SEED, CHAOS_SETTLE_SECONDS,
 * CHAOS_LIFETIME_SECONDS, CHAOS_KEEP=1). Prints the summary; exits 1 on any discrepancy, 2 when
 * the harness itself could not run.
 */
function option(flag: string, envName: string): string | undefined {
  const index = process.argv.indexOf(`--${flag}`);
  if (index >= 0) return process.argv[index + 1] ?? '';
  return process.env[envName];
}

function integer(flag: string, envName: string, fallback: number): number {
  const raw = option(flag, envName);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 0) {
    process.stderr.write(`--${flag} / ${envName}: expected a non-negative integer, got "${raw}"\n`);
    process.exit(2);
  }
  return value;
}

const firstFaults = (option('first-faults', 'CHAOS_FIRST_FAULTS') ?? '')
  .split(',')
  .filter(Boolean)
  .map((kind) => {
    if (!(FAULT_KINDS as readonly string[]).includes(kind)) {
      process.stderr.write(`unknown fault kind "${kind}"; known: ${FAULT_KINDS.join(', ')}\n`);
      process.exit(2);
    }
    return kind as FaultKind;
  });

const options: Partial<StormOptions> = {
  customers: integer('customers', 'CHAOS_CUSTOMERS', DEFAULT_OPTIONS.customers),
  purchases: integer('purchases', 'CHAOS_PURCHASES', DEFAULT_OPTIONS.purchases),
  durationMs: integer('duration', 'CHAOS_DURATION_SECONDS', DEFAULT_OPTIONS.durationMs / 1000) * 1000,
  seed: integer('seed', 'CHAOS_SEED', Math.floor(Math.random() * 1_000_000)),
  settleMs: integer('settle', 'CHAOS_SETTLE_SECONDS', DEFAULT_OPTIONS.settleMs / 1000) * 1000,
  lifetimeSeconds: integer('lifetime', 'CHAOS_LIFETIME_SECONDS', DEFAULT_OPTIONS.lifetimeSeconds),
  firstFaults,
  keepArtifacts: process.argv.includes('--keep') || process.env.CHAOS_KEEP === '1',
};

runStorm(options).then(
  (summary) => {
    process.stdout.write(`${formatSummary(summary)}\n`);
    process.exit(summary.discrepancies.length === 0 ? 0 : 1);
  },
  (error: unknown) => {
    process.stderr.write(`chaos harness failed: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(2);
  },
);
