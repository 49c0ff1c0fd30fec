import { useState } from 'react';
import { StatusBadge, TextField } from '../../ui/components';
import { countryName, formatDateTime } from '../../ui/format';
import { useDebounced, useLoad } from '../../ui/hooks';
import { LoadedList, Table } from '../../ui/lists';
import { formatUsd } from '../../ui/money';
import { STATUS_LABELS, statusLabel } from '../../ui/status';
import { ACTIVATION_STATUSES, type Activation } from '../../ui/types';
import { api } from './client';

const COLUMNS = [
  { label: 'Created' },
  { label: 'Customer' },
  { label: 'Service · country' },
  { label: 'Phone' },
  { label: 'Provider' },
  { label: 'Status' },
  { label: 'Price', numeric: true },
];

/** A datetime-local value ("2026-12-03T10:15") as an ISO instant in the admin's time zone; '' stays ''. */
const isoOf = (local: string) => (local ? new Date(local).toISOString() : '');

/**
 * Every activation, filtered by status, customer e-mail, provider, service, country, creation
 * time and "stuck" (a provider call retrying, or open past its time, for more than N minutes:
 * Temporal visibility plus the database). `#/activations/<email>` opens with the e-mail filled in.
 */
export function Activations({ email = '' }: { email?: string }) {
  const [status, setStatus] = useState('');
  const [emailInput, setEmail] = useState(email);
  const [provider, setProvider] = useState('');
  const [service, setService] = useState('');
  const [country, setCountry] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [stuck, setStuck] = useState(false);
  const [stuckMinutes, setStuckMinutes] = useState('5');
  const typed = {
    email: useDebounced(emailInput.trim(), 300),
    service: useDebounced(service.trim().toLowerCase(), 300),
    country: useDebounced(country.trim().toUpperCase(), 300),
    stuckMinutes: useDebounced(stuckMinutes.trim(), 300),
  };
  const minutes = /^\d{1,5}$/.test(typed.stuckMinutes) ? typed.stuckMinutes : '5';
  const list = useLoad(
    (signal) =>
      api
        .get<{ activations: (Activation & { userEmail: string | null })[]; stuckFrom: string[] }>('/admin/activations', {
          query: {
            status,
            email: typed.email,
            provider,
            service: typed.service,
            country: /^[A-Z]{2}$/.test(typed.country) ? typed.country : '',
            from: isoOf(from),
            to: isoOf(to),
            stuckMinutes: stuck ? minutes : '',
          },
          signal,
        })
        .then((r) => r.activations),
    [status, typed.email, provider, typed.service, typed.country, from, to, stuck, minutes],
  );
  const providers = useLoad((signal) => api.get<{ providers: { id: string }[] }>('/admin/providers', { signal }).then((r) => r.providers), []);

  return (
    <section className="card stack" aria-labelledby="activations-title">
      <div className="row">
        <h1 id="activations-title" className="grow">
          Activations
        </h1>
        <button type="button" className="small" onClick={list.reload} disabled={list.loading}>
          {list.loading ? 'Loading…' : 'Refresh'}
        </button>
      </div>
      <form className="filters" role="search" aria-label="Filter activations" onSubmit={(e) => e.preventDefault()}>
        <div>
          <label htmlFor="status-filter">Status</label>
          <select id="status-filter" value={status} onChange={(e) => setStatus(e.target.value)} data-testid="status-filter">
            <option value="">All statuses</option>
            {ACTIVATION_STATUSES.map((s) => (
              <option key={s} value={s}>
                {STATUS_LABELS[s]}
              </option>
            ))}
          </select>
        </div>
        <div>
          <TextField id="email-filter" label="Customer e-mail" type="search" autoComplete="off" value={emailInput} onChange={setEmail} placeholder="Any customer" data-testid="email-filter" />
        </div>
        <div>
          <label htmlFor="provider-filter">Provider</label>
          <select id="provider-filter" value={provider} onChange={(e) => setProvider(e.target.value)} data-testid="provider-filter">
            <option value="">All providers</option>
            {providers.data?.map((p) => (
              <option key={p.id} value={p.id}>
                {p.id}
              </option>
            ))}
          </select>
        </div>
        <div>
          <TextField id="service-filter" label="Service code" autoComplete="off" value={service} onChange={setService} placeholder="tg, wa …" data-testid="service-filter" />
        </div>
        <div>
          <TextField id="country-filter" label="Country (ISO)" autoComplete="off" maxLength={2} value={country} onChange={setCountry} placeholder="GB" data-testid="country-filter" />
        </div>
        <div>
          <TextField id="from-filter" label="Created from" type="datetime-local" value={from} onChange={setFrom} data-testid="from-filter" />
        </div>
        <div>
          <TextField id="to-filter" label="Created before" type="datetime-local" value={to} onChange={setTo} data-testid="to-filter" />
        </div>
        <div>
          <label className="row">
            <input type="checkbox" checked={stuck} onChange={(e) => setStuck(e.target.checked)} data-testid="stuck-filter" /> Stuck for more than
          </label>
          <div className="row">
            <input
              id="stuck-minutes"
              aria-label="Minutes stuck"
              inputMode="numeric"
              value={stuckMinutes}
              onChange={(e) => setStuckMinutes(e.target.value)}
              style={{ width: '5rem' }}
              data-testid="stuck-minutes"
            />
            <span>minutes</span>
          </div>
        </div>
      </form>
      {stuck && (
        <p className="muted small-text">
          Stuck: a provider call (buy or cancel) retrying, RESERVED, or still open past its expiry, for longer than the minutes given.
        </p>
      )}
      <LoadedList list={list} empty="No activations match these filters.">
        {(rows) => (
          <Table testId="activations" columns={COLUMNS} cards>
            {rows.map((a) => (
              <tr key={a.id} data-testid="activation-row" data-id={a.id} data-status={a.status}>
                <td data-label="Created">
                  <a href={`#/activation/${encodeURIComponent(a.id)}`} data-testid="activation-link">
                    {formatDateTime(a.createdAt)}
                  </a>
                </td>
                <td data-label="Customer">{a.userEmail ?? a.userId ?? '—'}</td>
                <td data-label="Service · country">
                  <span>
                    {a.serviceCode} · <span title={countryName(a.countryIso)}>{a.countryIso}</span>
                  </span>
                </td>
                <td data-label="Phone">{a.phone ?? '—'}</td>
                <td data-label="Provider">{a.providerId ?? '—'}</td>
                <td data-label="Status">
                  <span>
                    <StatusBadge status={a.status} label={statusLabel(a)} />
                    {a.failureReason && <span className="muted small-text"> {a.failureReason}</span>}
                  </span>
                </td>
                <td data-label="Price" className="num">
                  {formatUsd(a.priceMicros ?? a.heldMicros)}
                </td>
              </tr>
            ))}
          </Table>
        )}
      </LoadedList>
    </section>
  );
}
