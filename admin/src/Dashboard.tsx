import { useEffect, useState } from 'react';
import { describeError } from '../../ui/api';
import { ErrorMessage, Loading } from '../../ui/components';
import { useLoad } from '../../ui/hooks';
import { TimeChart } from './charts';
import { api } from './client';
import { millis, percent, type Dashboard as Figures } from './types';

const WINDOWS = [30, 60, 180, 720];
const REFRESH_MS = 15_000;

/** The business at a glance: live figures over the last N minutes, refreshed every 15 s. */
export function Dashboard() {
  const [minutes, setMinutes] = useState(60);
  const figures = useLoad((signal) => api.get<Figures>('/admin/dashboard', { query: { minutes }, signal }), [minutes]);
  const { reload } = figures;
  useEffect(() => {
    const timer = setInterval(reload, REFRESH_MS);
    return () => clearInterval(timer);
  }, [reload]);

  if (figures.error && !figures.data) return <ErrorMessage message={describeError(figures.error)} onRetry={figures.reload} />;
  if (!figures.data) return <Loading />;
  const d = figures.data;
  const tiles: [string, string, string][] = [
    ['active', 'Active activations', String(d.activeActivations)],
    ['purchases', 'Purchases / min', String(d.purchasesPerMinute)],
    ['delivery', 'Delivery rate', percent(d.deliveryRate)],
    ['latency', `SMS latency (median, p95; ${d.smsLatencyMs.samples} SMS)`, `${millis(d.smsLatencyMs.p50)} · ${millis(d.smsLatencyMs.p95)}`],
    ['refunds', 'Refunds', String(d.refunds)],
    ['errors', 'Failed purchases', String(d.failedPurchases)],
    ['incidents', 'Open incidents', String(d.openIncidents)],
  ];
  const total = (key: 'purchases' | 'sms' | 'refunds' | 'failed') => d.series.reduce((n, p) => n + p[key], 0);

  return (
    <div className="stack">
      <section className="card stack" aria-labelledby="dashboard-title">
        <div className="row">
          <h1 id="dashboard-title" className="grow">
            Dashboard
          </h1>
          <label htmlFor="dashboard-window" className="sr-only">
            Time window
          </label>
          <select id="dashboard-window" value={minutes} onChange={(e) => setMinutes(Number(e.target.value))} data-testid="dashboard-window">
            {WINDOWS.map((m) => (
              <option key={m} value={m}>
                Last {m >= 60 ? `${m / 60} h` : `${m} min`}
              </option>
            ))}
          </select>
        </div>
        <div className="tiles">
          {tiles.map(([id, label, value]) => (
            <div key={id} className="tile" data-testid={`tile-${id}`}>
              <div className="value">{value}</div>
              <div className="label">{label}</div>
            </div>
          ))}
        </div>
      </section>
      <section className="card stack" aria-labelledby="traffic-title">
        <h2 id="traffic-title">Purchases and SMS per minute</h2>
        <TimeChart
          testId="chart-traffic"
          data={d.series}
          x="minute"
          series={[
            { key: 'purchases', label: 'Numbers bought', color: '#2456d6' },
            { key: 'sms', label: 'First SMS', color: '#067647' },
          ]}
          label={`Last ${d.windowMinutes} minutes: ${total('purchases')} numbers bought, ${total('sms')} first SMS.`}
        />
      </section>
      <section className="card stack" aria-labelledby="problems-title">
        <h2 id="problems-title">Refunds and failed purchases per minute</h2>
        <TimeChart
          testId="chart-problems"
          kind="bar"
          data={d.series}
          x="minute"
          series={[
            { key: 'refunds', label: 'Refunded', color: '#a15c07' },
            { key: 'failed', label: 'Failed', color: '#b42318' },
          ]}
          label={`Last ${d.windowMinutes} minutes: ${total('refunds')} refunds, ${total('failed')} failed purchases.`}
        />
      </section>
      <section className="card stack" aria-labelledby="health-title">
        <h2 id="health-title">Providers</h2>
        <ul className="rows">
          {d.providers.map((p) => (
            <li key={p.providerId} className="row" data-testid="dashboard-provider">
              <strong className="grow">{p.providerId}</strong>
              <span className={`badge ${p.breaker === 'closed' ? 'badge-completed' : p.breaker === 'open' ? 'badge-failed' : 'badge-stuck'}`}>Breaker {p.breaker ?? 'unknown'}</span>
              <span className="muted small-text">
                errors {percent(p.errorRate)} of {p.callCount} calls · median {millis(p.p50LatencyMs)}
              </span>
            </li>
          ))}
        </ul>
        <p>
          <a href="#/providers">Providers →</a>
        </p>
      </section>
    </div>
  );
}
