import { useState } from 'react';
import { describeError } from '../../ui/api';
import { ErrorMessage, Loading } from '../../ui/components';
import { formatDateTime } from '../../ui/format';
import { useLoad } from '../../ui/hooks';
import { Table } from '../../ui/lists';
import { formatUsd } from '../../ui/money';
import { TimeChart } from './charts';
import { api } from './client';
import { Invariants } from './Invariants';
import type { MoneyRow } from './types';

interface MoneyReport {
  rows: MoneyRow[];
  totals: Omit<MoneyRow, 'bucket' | 'key'>;
}

interface Reconciliation {
  refundsNotMatched: { activationId: string; providerId: string | null; upstreamId: string | null; status: string; endedAt: string | null; costMicros: string | null; incident: boolean }[];
  lateSms: { count: number; open: number };
  orphans: { count: number; open: number; recoveredMicros: string; lossMicros: string };
  costRecoveredMicros: string;
}

const PERIODS = [1, 7, 30, 90];
const DIMENSIONS = { provider: 'Provider', service: 'Service', country: 'Country' } as const;
type Dimension = keyof typeof DIMENSIONS;

/** Sums of micro-dollar strings, exactly. */
const add = (a: string, b: string) => (BigInt(a) + BigInt(b)).toString();
/** Dollars as a chart coordinate only (the tables show exact amounts). */
const dollars = (micros: string) => Number(BigInt(micros)) / 1e6;

/** Revenue, upstream cost and margin by provider, service or country over time; the reconciliation report; the invariants. */
export function Money() {
  const [days, setDays] = useState(30);
  const [by, setBy] = useState<Dimension>('provider');
  const bucket = days <= 1 ? 'hour' : 'day';
  const from = new Date(Date.now() - days * 86_400_000);
  from.setMinutes(0, 0, 0);
  const fromIso = from.toISOString();
  const report = useLoad((signal) => api.get<MoneyReport>('/admin/money', { query: { by, bucket, from: fromIso }, signal }), [by, bucket, days]);
  const reconciliation = useLoad((signal) => api.get<Reconciliation>('/admin/reconciliation', { query: { from: fromIso }, signal }), [days]);

  return (
    <div className="stack">
      <section className="card stack" aria-labelledby="money-title">
        <h1 id="money-title">Money</h1>
        <div className="filters">
          <div>
            <label htmlFor="money-period">Period</label>
            <select id="money-period" value={days} onChange={(e) => setDays(Number(e.target.value))} data-testid="money-period">
              {PERIODS.map((d) => (
                <option key={d} value={d}>
                  {d === 1 ? 'Last 24 hours (by hour)' : `Last ${d} days`}
                </option>
              ))}
            </select>
          </div>
          <div>
            <label htmlFor="money-by">Per</label>
            <select id="money-by" value={by} onChange={(e) => setBy(e.target.value as Dimension)} data-testid="money-by">
              {Object.entries(DIMENSIONS).map(([value, label]) => (
                <option key={value} value={value}>
                  {label}
                </option>
              ))}
            </select>
          </div>
        </div>
        {report.error && !report.data ? (
          <ErrorMessage message={describeError(report.error)} onRetry={report.reload} />
        ) : !report.data ? (
          <Loading />
        ) : (
          <MoneyView report={report.data} by={by} daily={bucket === 'day'} />
        )}
      </section>
      <section className="card stack" aria-labelledby="reconciliation-title">
        <h2 id="reconciliation-title">Reconciliation</h2>
        {reconciliation.error && !reconciliation.data ? (
          <ErrorMessage message={describeError(reconciliation.error)} onRetry={reconciliation.reload} />
        ) : !reconciliation.data ? (
          <Loading />
        ) : (
          <ReconciliationView report={reconciliation.data} />
        )}
      </section>
      <Invariants />
    </div>
  );
}

function MoneyView({ report, by, daily }: { report: MoneyReport; by: Dimension; daily: boolean }) {
  const perBucket = new Map<string, { revenue: string; cost: string; margin: string }>();
  const perKey = new Map<string, Omit<MoneyRow, 'bucket' | 'key'>>();
  for (const r of report.rows) {
    const b = perBucket.get(r.bucket) ?? { revenue: '0', cost: '0', margin: '0' };
    perBucket.set(r.bucket, { revenue: add(b.revenue, r.revenueMicros), cost: add(b.cost, add(r.costMicros, `-${r.recoveredMicros}`)), margin: add(b.margin, r.marginMicros) });
    const k = perKey.get(r.key) ?? { bought: 0, sold: 0, revenueMicros: '0', costMicros: '0', recoveredMicros: '0', marginMicros: '0' };
    perKey.set(r.key, {
      bought: k.bought + r.bought,
      sold: k.sold + r.sold,
      revenueMicros: add(k.revenueMicros, r.revenueMicros),
      costMicros: add(k.costMicros, r.costMicros),
      recoveredMicros: add(k.recoveredMicros, r.recoveredMicros),
      marginMicros: add(k.marginMicros, r.marginMicros),
    });
  }
  const chart = [...perBucket.entries()].map(([bucket, v]) => ({ bucket, revenue: dollars(v.revenue), cost: dollars(v.cost), margin: dollars(v.margin) }));
  const keys = [...perKey.entries()].sort((a, b) => (BigInt(b[1].revenueMicros) > BigInt(a[1].revenueMicros) ? 1 : -1));
  const t = report.totals;
  return (
    <>
      <div className="tiles">
        <div className="tile" data-testid="money-revenue">
          <div className="value">{formatUsd(t.revenueMicros)}</div>
          <div className="label">Revenue ({t.sold} sold)</div>
        </div>
        <div className="tile" data-testid="money-cost">
          <div className="value">{formatUsd(add(t.costMicros, `-${t.recoveredMicros}`))}</div>
          <div className="label">Upstream cost of every number bought, after {formatUsd(t.recoveredMicros)} recovered</div>
        </div>
        <div className="tile" data-testid="money-margin">
          <div className="value">{formatUsd(t.marginMicros)}</div>
          <div className="label">Margin</div>
        </div>
      </div>
      {chart.length > 0 && (
        <TimeChart
          testId="chart-money"
          daily={daily}
          data={chart}
          x="bucket"
          series={[
            { key: 'revenue', label: 'Revenue', color: '#2456d6' },
            { key: 'cost', label: 'Cost', color: '#b42318' },
            { key: 'margin', label: 'Margin', color: '#067647' },
          ]}
          format={(v) => `$${Math.round(v * 100) / 100}`}
          label={`Revenue ${formatUsd(t.revenueMicros)}, margin ${formatUsd(t.marginMicros)} over the period.`}
        />
      )}
      {keys.length === 0 ? (
        <p className="empty">No purchases in this period.</p>
      ) : (
        <Table testId="money-table" columns={[{ label: DIMENSIONS[by] }, { label: 'Bought', numeric: true }, { label: 'Sold', numeric: true }, { label: 'Revenue', numeric: true }, { label: 'Cost', numeric: true }, { label: 'Recovered', numeric: true }, { label: 'Margin', numeric: true }]} cards>
          {keys.map(([key, v]) => (
            <tr key={key} data-testid="money-row" data-key={key}>
              <td data-label={DIMENSIONS[by]}>{key}</td>
              <td data-label="Bought" className="num">
                {v.bought}
              </td>
              <td data-label="Sold" className="num">
                {v.sold}
              </td>
              <td data-label="Revenue" className="num" data-testid="row-revenue">
                {formatUsd(v.revenueMicros)}
              </td>
              <td data-label="Cost" className="num">
                {formatUsd(v.costMicros)}
              </td>
              <td data-label="Recovered" className="num">
                {formatUsd(v.recoveredMicros)}
              </td>
              <td data-label="Margin" className="num" data-testid="row-margin">
                {formatUsd(v.marginMicros)}
              </td>
            </tr>
          ))}
        </Table>
      )}
    </>
  );
}

function ReconciliationView({ report }: { report: Reconciliation }) {
  return (
    <>
      <div className="tiles">
        <div className="tile" data-testid="recon-unmatched">
          <div className="value">{report.refundsNotMatched.length}</div>
          <div className="label">Refunds not matched by an upstream cancel</div>
        </div>
        <div className="tile" data-testid="recon-late">
          <div className="value">{report.lateSms.count}</div>
          <div className="label">Late SMS ({report.lateSms.open} open)</div>
        </div>
        <div className="tile" data-testid="recon-orphans">
          <div className="value">{report.orphans.count}</div>
          <div className="label">
            Orphan numbers ({report.orphans.open} open; lost {formatUsd(report.orphans.lossMicros)})
          </div>
        </div>
        <div className="tile" data-testid="recon-recovered">
          <div className="value">{formatUsd(report.costRecoveredMicros)}</div>
          <div className="label">Cost recovered on cancels</div>
        </div>
      </div>
      <p className="muted small-text">
        Refunds not matched: the customer was refunded (cancelled or expired) but the provider never confirmed giving the cost back, or still lists the number open. Late
        SMS and orphans are listed on the <a href="#/incidents">Incidents</a> page.
      </p>
      {report.refundsNotMatched.length > 0 && (
        <Table testId="recon-table" columns={[{ label: 'Activation' }, { label: 'Provider' }, { label: 'Status' }, { label: 'Ended' }, { label: 'Cost', numeric: true }]} cards>
          {report.refundsNotMatched.map((r) => (
            <tr key={r.activationId} data-testid="recon-row">
              <td data-label="Activation">
                <a href={`#/activation/${encodeURIComponent(r.activationId)}`}>{r.activationId}</a>
                {r.incident && <div className="muted small-text">provider still lists it open</div>}
              </td>
              <td data-label="Provider">
                {r.providerId ?? '—'} {r.upstreamId ? `#${r.upstreamId}` : ''}
              </td>
              <td data-label="Status">{r.status}</td>
              <td data-label="Ended">{formatDateTime(r.endedAt)}</td>
              <td data-label="Cost" className="num">
                {formatUsd(r.costMicros)}
              </td>
            </tr>
          ))}
        </Table>
      )}
    </>
  );
}
