import { useState, type FormEvent } from 'react';
import { describeError } from '../../ui/api';
import { ErrorMessage, StatusBadge, TextField } from '../../ui/components';
import { useLoad } from '../../ui/hooks';
import { LoadedList } from '../../ui/lists';
import { formatUsd } from '../../ui/money';
import { api } from './client';
import { millis, percent, type ProviderView } from './types';

const bps = (value: number) => `${value / 100}%`;

/**
 * Upstream providers: health (breaker, error rate, latency, delivery rate), balance at the
 * provider, sync now, enable/disable, edit (a new API key is stored encrypted and never shown
 * again), markup and per service/country overrides, and adding one.
 */
export function Providers() {
  const list = useLoad((signal) => api.get<{ providers: ProviderView[] }>('/admin/providers', { signal }).then((r) => r.providers), []);
  const [adding, setAdding] = useState(false);
  return (
    <section className="card stack" aria-labelledby="providers-title">
      <div className="row">
        <h1 id="providers-title" className="grow">
          Providers
        </h1>
        <button type="button" className="small" onClick={list.reload} disabled={list.loading}>
          {list.loading ? 'Loading…' : 'Refresh'}
        </button>
        <button type="button" className="small primary" onClick={() => setAdding(!adding)} aria-expanded={adding} data-testid="provider-add-open">
          Add provider
        </button>
      </div>
      {adding && (
        <ProviderForm
          onSaved={() => {
            setAdding(false);
            list.reload();
          }}
        />
      )}
      <p className="muted small-text">Error rate and latency: provider calls in the last minutes (health window). Delivery: numbers with an SMS ÷ numbers whose outcome is known, last 24 h.</p>
      <LoadedList list={list} empty="No providers yet.">
        {(providers) => (
          <ul className="rows">
            {providers.map((p) => (
              <ProviderRow key={p.id} provider={p} onChanged={list.reload} />
            ))}
          </ul>
        )}
      </LoadedList>
    </section>
  );
}

function ProviderRow({ provider: p, onChanged }: { provider: ProviderView; onChanged: () => void }) {
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [editing, setEditing] = useState(false);
  const [balance, setBalance] = useState<string | null>(null);

  async function run(name: string, action: () => Promise<string | void>) {
    setBusy(name);
    setError(null);
    setNotice(null);
    try {
      const message = await action();
      if (message) setNotice(message);
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(null);
    }
  }

  const breaker = p.breaker ?? 'unknown';
  return (
    <li className="stack" data-testid="provider-row" data-id={p.id} data-enabled={p.enabled}>
      <div className="row">
        <strong className="grow">
          {p.displayName} <span className="muted small-text">({p.id}, {p.protocol === 'FIVESIM' ? '5sim' : 'SMS-Activate protocol'})</span>
        </strong>
        <StatusBadge status={p.enabled ? 'completed' : 'failed'} label={p.enabled ? 'Enabled' : 'Disabled'} />
        <span className={`badge ${breaker === 'closed' ? 'badge-completed' : breaker === 'open' ? 'badge-failed' : 'badge-stuck'}`} data-testid="breaker">
          Breaker {breaker}
        </span>
      </div>
      <dl className="details">
        <dt>Error rate</dt>
        <dd data-testid="error-rate">
          {percent(p.calls?.errorRate)} of {p.calls?.count ?? 0} calls
        </dd>
        <dt>Latency (median)</dt>
        <dd>{millis(p.calls?.p50LatencyMs)}</dd>
        <dt>Delivery rate</dt>
        <dd data-testid="delivery-rate">
          {percent(p.delivery.rate)} ({p.delivery.delivered} of {p.delivery.bought} numbers)
        </dd>
        <dt>Markup</dt>
        <dd>
          {bps(p.markupBps)}
          {p.markupOverrides.length > 0 && ` · ${p.markupOverrides.map((o) => `${o.serviceCode}/${o.countryIso} ${bps(o.markupBps)}`).join(', ')}`}
        </dd>
        <dt>Balance at provider</dt>
        <dd data-testid="provider-balance">{balance ?? '—'}</dd>
        <dt>Key</dt>
        <dd>{p.hasApiKey ? `stored encrypted${p.keyNeedsRotation ? ' (old key version: rotate)' : ''}` : 'none'}</dd>
      </dl>
      {error && <ErrorMessage message={error} />}
      {notice && (
        <p className="notice" role="status" data-testid="provider-notice">
          {notice}
        </p>
      )}
      <div className="actions">
        <button
          type="button"
          className="small"
          disabled={busy != null}
          onClick={() =>
            run('balance', async () => {
              const r = await api.get<{ balance: { micros: string; usdMicros: string } | { error: string } }>(`/admin/providers/${p.id}/balance`);
              setBalance('error' in r.balance ? `unavailable: ${r.balance.error}` : `${formatUsd(r.balance.usdMicros)} (${Number(r.balance.micros) / 1e6} in its currency)`);
            })
          }
          data-testid="provider-balance-check"
        >
          {busy === 'balance' ? 'Asking…' : 'Check balance'}
        </button>
        <button
          type="button"
          className="small"
          disabled={busy != null || !p.enabled}
          onClick={() =>
            run('sync', async () => {
              const r = await api.post<{ upserted: number; skipped: number }>(`/admin/providers/${p.id}/sync`);
              return `Synced: ${r.upserted} offers updated, ${r.skipped} skipped.`;
            })
          }
          data-testid="provider-sync"
        >
          {busy === 'sync' ? 'Syncing…' : 'Sync now'}
        </button>
        <button
          type="button"
          className="small"
          disabled={busy != null}
          onClick={() =>
            run('enable', async () => {
              await api.request('PATCH', `/admin/providers/${p.id}`, { body: { enabled: !p.enabled } });
              onChanged();
            })
          }
          data-testid="provider-toggle"
        >
          {p.enabled ? 'Disable' : 'Enable'}
        </button>
        <button type="button" className="small" onClick={() => setEditing(!editing)} aria-expanded={editing} data-testid="provider-edit-open">
          Edit
        </button>
      </div>
      <TestPurchase provider={p} />
      {editing && (
        <div className="stack">
          <ProviderForm
            provider={p}
            onSaved={() => {
              setEditing(false);
              onChanged();
            }}
          />
          <MarkupForm provider={p} onSaved={onChanged} />
        </div>
      )}
    </li>
  );
}

/** Add (no `provider`) or edit one; the API key field is write-only. */
function ProviderForm({ provider, onSaved }: { provider?: ProviderView; onSaved: () => void }) {
  const [fields, setFields] = useState({
    id: provider?.id ?? '',
    displayName: provider?.displayName ?? '',
    protocol: provider?.protocol ?? 'SMS_ACTIVATE',
    baseUrl: provider?.baseUrl ?? '',
    apiKey: '',
    usdRate: provider?.usdRate ?? '1',
    markupPercent: String((provider?.markupBps ?? 2500) / 100),
    countryIds: provider?.countryIds ?? 'sms-activate',
    minCancelSeconds: String(provider?.minCancelSeconds ?? 120),
    lifetimeSeconds: String(provider?.lifetimeSeconds ?? 1200),
  });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const set = (name: keyof typeof fields) => (value: string) => setFields((f) => ({ ...f, [name]: value }));
  const prefix = provider ? `edit-${provider.id}` : 'new';

  async function submit(event: FormEvent) {
    event.preventDefault();
    const markupBps = Math.round(Number(fields.markupPercent) * 100);
    const body: Record<string, unknown> = {
      displayName: fields.displayName.trim(),
      protocol: fields.protocol,
      baseUrl: fields.baseUrl.trim(),
      usdRate: fields.usdRate.trim(),
      markupBps,
      countryIds: fields.countryIds,
      minCancelSeconds: Number(fields.minCancelSeconds),
      lifetimeSeconds: Number(fields.lifetimeSeconds),
    };
    if (fields.apiKey) body.apiKey = fields.apiKey;
    setBusy(true);
    setError(null);
    try {
      if (provider) await api.request('PATCH', `/admin/providers/${provider.id}`, { body });
      else await api.post('/admin/providers', { ...body, id: fields.id.trim() });
      onSaved();
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="stack inline-form" onSubmit={submit} aria-label={provider ? `Edit ${provider.id}` : 'Add a provider'} data-testid="provider-form">
      {!provider && <TextField id={`${prefix}-id`} label="Id (lower-case, dashes)" required value={fields.id} onChange={set('id')} data-testid="provider-id" />}
      <TextField id={`${prefix}-name`} label="Name" required value={fields.displayName} onChange={set('displayName')} data-testid="provider-name" />
      <label htmlFor={`${prefix}-protocol`}>Protocol</label>
      <select id={`${prefix}-protocol`} value={fields.protocol} onChange={(e) => set('protocol')(e.target.value)}>
        <option value="SMS_ACTIVATE">SMS-Activate handler_api (HeroSMS …)</option>
        <option value="FIVESIM">5sim v1</option>
      </select>
      <TextField id={`${prefix}-url`} label="Base URL" type="url" required value={fields.baseUrl} onChange={set('baseUrl')} data-testid="provider-url" />
      <TextField
        id={`${prefix}-key`}
        label={provider ? 'New API key (leave empty to keep the stored one)' : 'API key'}
        type="password"
        autoComplete="new-password"
        required={!provider}
        value={fields.apiKey}
        onChange={set('apiKey')}
        data-testid="provider-key"
      />
      <TextField id={`${prefix}-rate`} label="USD per unit of its currency" inputMode="decimal" value={fields.usdRate} onChange={set('usdRate')} />
      <TextField id={`${prefix}-markup`} label="Markup %" inputMode="decimal" value={fields.markupPercent} onChange={set('markupPercent')} data-testid="provider-markup" />
      <label htmlFor={`${prefix}-countries`}>Country numbering</label>
      <select id={`${prefix}-countries`} value={fields.countryIds} onChange={(e) => set('countryIds')(e.target.value)}>
        <option value="sms-activate">SMS-Activate</option>
        <option value="herosms">HeroSMS</option>
        <option value="fivesim">5sim</option>
      </select>
      <TextField id={`${prefix}-mincancel`} label="Minimum seconds before cancel" inputMode="numeric" value={fields.minCancelSeconds} onChange={set('minCancelSeconds')} />
      <TextField id={`${prefix}-lifetime`} label="Number lifetime (seconds)" inputMode="numeric" value={fields.lifetimeSeconds} onChange={set('lifetimeSeconds')} />
      <div className="row">
        <button type="submit" className="primary" disabled={busy} data-testid="provider-save">
          {busy ? 'Saving…' : provider ? 'Save' : 'Add provider'}
        </button>
      </div>
      {error && <ErrorMessage message={error} />}
    </form>
  );
}

function MarkupForm({ provider, onSaved }: { provider: ProviderView; onSaved: () => void }) {
  const [service, setService] = useState('*');
  const [country, setCountry] = useState('*');
  const [percent, setPercent] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function save(markupBps: number | null, serviceCode = service.trim() || '*', countryIso = country.trim() || '*') {
    setBusy(true);
    setError(null);
    try {
      await api.request('PUT', `/admin/providers/${provider.id}/markups`, { body: { serviceCode, countryIso, markupBps } });
      setPercent('');
      onSaved();
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form
      className="stack inline-form"
      aria-label={`Markup overrides of ${provider.id}`}
      onSubmit={(e) => {
        e.preventDefault();
        void save(Math.round(Number(percent) * 100));
      }}
      data-testid="markup-form"
    >
      <strong>Markup overrides (applied at the next sync)</strong>
      {provider.markupOverrides.map((o) => (
        <div key={`${o.serviceCode}/${o.countryIso}`} className="row" data-testid="markup-override">
          <span className="grow">
            {o.serviceCode} / {o.countryIso}: {bps(o.markupBps)}
          </span>
          <button type="button" className="small" disabled={busy} onClick={() => save(null, o.serviceCode, o.countryIso)}>
            Remove
          </button>
        </div>
      ))}
      <TextField id={`markup-service-${provider.id}`} label="Service (* = any)" value={service} onChange={setService} data-testid="markup-service" />
      <TextField id={`markup-country-${provider.id}`} label="Country ISO (* = any)" value={country} onChange={setCountry} data-testid="markup-country" />
      <TextField id={`markup-percent-${provider.id}`} label="Markup %" inputMode="decimal" required value={percent} onChange={setPercent} data-testid="markup-percent" />
      <div className="row">
        <button type="submit" disabled={busy || percent.trim() === '' || !Number.isFinite(Number(percent))} data-testid="markup-save">
          Set override
        </button>
      </div>
      {error && <ErrorMessage message={error} />}
    </form>
  );
}

interface TestPurchaseResult {
  bought: { upstreamId: string; phone: string; costMicros: string | null } | null;
  buyMs: number;
  buyError?: string;
  cancel: { ok: boolean; ms: number; error: string | null } | null;
}

/** Buys one number at this provider only and cancels it at once (reconciliation cancels it if the provider refuses). */
function TestPurchase({ provider }: { provider: ProviderView }) {
  const [service, setService] = useState('tg');
  const [country, setCountry] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [result, setResult] = useState<TestPurchaseResult | null>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      const r = await api.post<{ result: TestPurchaseResult }>(`/admin/providers/${provider.id}/test-purchase`, { service: service.trim(), country: country.trim() });
      setResult(r.result);
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <details>
      <summary>Test purchase</summary>
      <form className="stack inline-form" onSubmit={submit} aria-label={`Test purchase at ${provider.id}`} data-testid="test-purchase-form">
        <p className="muted small-text">Buys one number here (at most our recorded cost) and cancels it at once. Nobody's wallet is charged.</p>
        <TextField id={`test-service-${provider.id}`} label="Service code" required value={service} onChange={setService} data-testid="test-service" />
        <TextField id={`test-country-${provider.id}`} label="Country ISO" required maxLength={2} value={country} onChange={setCountry} data-testid="test-country" />
        <div className="row">
          <button type="submit" disabled={busy || !service.trim() || country.trim().length !== 2} data-testid="test-purchase">
            {busy ? 'Buying…' : 'Buy and cancel'}
          </button>
        </div>
        {error && <ErrorMessage message={error} />}
        {result && (
          <p className={result.bought ? 'notice' : 'error'} role="status" data-testid="test-purchase-result">
            {result.bought
              ? `Bought ${result.bought.phone} in ${millis(result.buyMs)}${result.bought.costMicros ? ` for ${formatUsd(result.bought.costMicros)}` : ''}; ${
                  result.cancel?.ok ? `cancelled in ${millis(result.cancel.ms)}.` : `cancel refused (${result.cancel?.error ?? '?'}): reconciliation cancels it.`
                }`
              : `The provider did not sell (${millis(result.buyMs)}): ${result.buyError ?? 'unknown error'}`}
          </p>
        )}
      </form>
    </details>
  );
}
