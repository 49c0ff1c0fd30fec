import { useState } from 'react';
import { ErrorMessage, StatusBadge, TextField } from '../../ui/components';
import { describeError } from '../../ui/api';
import { countryName, formatDateTime } from '../../ui/format';
import { useDebounced, useLoad } from '../../ui/hooks';
import { LoadedList, Table } from '../../ui/lists';
import { formatUsd } from '../../ui/money';
import { ACTIVATION_STATUSES, isLive, type Activation } from '../../ui/types';
import { api } from './client';

const ACTIVATION_COLUMNS = [
  { label: 'Created' },
  { label: 'User' },
  { label: 'Service · country' },
  { label: 'Phone' },
  { label: 'Provider' },
  { label: 'Status' },
  { label: 'Price', numeric: true },
  { label: 'Actions', hidden: true },
];

/** All activations, filterable by status and user (#/activations/<userId>); admins may cancel any still running. */
export function Activations({ userId = '' }: { userId?: string }) {
  const [status, setStatus] = useState('');
  const [userInput, setUserInput] = useState(userId);
  const user = useDebounced(userInput.trim(), 300);
  const list = useLoad(
    (signal) =>
      api
        .get<{ activations: Activation[] }>('/admin/activations', { query: { status, userId: user }, signal })
        .then((r) => r.activations),
    [status, user],
  );
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  async function cancel(activation: Activation) {
    const label = `${activation.serviceCode} ${activation.phone ?? ''} for ${activation.userEmail ?? activation.userId ?? 'this user'}`;
    if (!window.confirm(`Cancel activation ${label}? The number goes back to the provider and the held funds are released.`)) return;
    setBusy(activation.id);
    setError(null);
    setNotice(null);
    try {
      const r = await api.post<{ activation: Activation; cancellation: { state: 'DONE' } | { state: 'SCHEDULED'; at: string } }>(
        `/admin/activations/${encodeURIComponent(activation.id)}/cancel`,
      );
      list.setData((rows) => rows?.map((a) => (a.id === activation.id ? { ...a, ...r.activation } : a)));
      setNotice(
        r.cancellation.state === 'SCHEDULED'
          ? `The provider does not allow cancelling before ${formatDateTime(r.cancellation.at)}; the activation will be cancelled and refunded then.`
          : `Activation ${r.activation.status.toLowerCase()}${r.activation.status === 'COMPLETED' ? ' (an SMS arrived first: the customer has the code and paid)' : ': the held funds were released'}.`,
      );
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(null);
    }
  }

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
      <div className="filters">
        <div>
          <label htmlFor="status-filter">Status</label>
          <select
            id="status-filter"
            value={status}
            onChange={(e) => setStatus(e.target.value)}
            data-testid="status-filter"
          >
            <option value="">All statuses</option>
            {ACTIVATION_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s.charAt(0) + s.slice(1).toLowerCase()}
              </option>
            ))}
          </select>
        </div>
        <div>
          <TextField
            id="user-filter"
            label="User id"
            autoComplete="off"
            value={userInput}
            onChange={setUserInput}
            placeholder="Any user"
            data-testid="user-filter"
          />
        </div>
      </div>
      {error && <ErrorMessage message={error} />}
      {notice && (
        <p className="notice" role="status" data-testid="admin-cancel-notice">
          {notice}
        </p>
      )}
      <LoadedList list={list} empty="No activations match these filters.">
        {(rows) => (
          <Table testId="activations" columns={ACTIVATION_COLUMNS}>
            {rows.map((a) => (
              <tr key={a.id} data-testid="activation-row" data-id={a.id} data-status={a.status}>
                <td>{formatDateTime(a.createdAt)}</td>
                <td>{a.userEmail ?? a.userId ?? '—'}</td>
                <td>
                  {a.serviceCode} · <span title={countryName(a.countryIso)}>{a.countryIso}</span>
                </td>
                <td>{a.phone ?? '—'}</td>
                <td>{a.providerId ?? '—'}</td>
                <td>
                  <StatusBadge status={a.status} />
                  {a.failureReason && <div className="muted small-text">{a.failureReason}</div>}
                </td>
                <td className="num">{formatUsd(a.priceMicros ?? a.heldMicros)}</td>
                <td>
                  <button
                    type="button"
                    className="small danger"
                    disabled={!isLive(a) || busy != null}
                    onClick={() => cancel(a)}
                    data-testid="admin-cancel"
                  >
                    {busy === a.id ? 'Cancelling…' : 'Cancel'}
                  </button>
                </td>
              </tr>
            ))}
          </Table>
        )}
      </LoadedList>
    </section>
  );
}
