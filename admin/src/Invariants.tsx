import { useState } from 'react';
import { ErrorMessage } from '../../ui/components';
import { useAction } from '../../ui/hooks';
import { api } from './client';

type Violation = Record<string, unknown> | string;

/** Runs the money invariants check (DESIGN.md "Money") on demand and lists what is wrong. */
export function Invariants() {
  const [violations, setViolations] = useState<Violation[] | null>(null);
  const [checkedAt, setCheckedAt] = useState<Date | null>(null);
  const { busy, error, run } = useAction();

  const check = () =>
    run(async () => {
      const r = await api.get<{ violations: Violation[] }>('/admin/invariants');
      setViolations(r.violations);
      setCheckedAt(new Date());
    });

  return (
    <section className="card stack" aria-labelledby="invariants-title">
      <h1 id="invariants-title">Invariants</h1>
      <p className="muted">
        For every wallet, balance plus held equals the sum of its ledger; every hold ends captured or released, never
        both; every finished activation left no hold behind.
      </p>
      <div>
        <button type="button" className="primary" onClick={check} disabled={busy} data-testid="invariants-run">
          {busy ? 'Checking…' : 'Run check'}
        </button>
      </div>
      {error && <ErrorMessage message={error} />}
      {violations && (
        <div aria-live="polite" className="stack" data-testid="invariants-result" data-count={violations.length}>
          {violations.length === 0 ? (
            <p className="notice">No violations: every invariant holds.</p>
          ) : (
            <>
              <p className="error" role="alert">
                {violations.length} violation{violations.length === 1 ? '' : 's'} found.
              </p>
              <ul className="rows">
                {violations.map((v, i) => (
                  <li key={i} className="row" data-testid="violation">
                    <ViolationView violation={v} />
                  </li>
                ))}
              </ul>
            </>
          )}
          {checkedAt && <p className="muted small-text">Checked at {checkedAt.toLocaleTimeString()}.</p>}
        </div>
      )}
    </section>
  );
}

function ViolationView({ violation }: { violation: Violation }) {
  if (typeof violation === 'string') return <span>{violation}</span>;
  const { message, invariant, kind, ...rest } = violation;
  const title = [invariant ?? kind, message].filter((x) => typeof x === 'string' && x).join(': ');
  return (
    <div className="grow stack">
      {title && <strong>{title}</strong>}
      {Object.keys(rest).length > 0 && <pre>{JSON.stringify(rest, null, 2)}</pre>}
    </div>
  );
}
