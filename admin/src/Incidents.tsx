import { useState } from 'react';
import { describeError } from '../../ui/api';
import { ErrorMessage } from '../../ui/components';
import { formatDateTime } from '../../ui/format';
import { useLoad } from '../../ui/hooks';
import { LoadedList, Table } from '../../ui/lists';
import { api } from './client';
import type { Incident } from './types';

/** What each kind of incident means, for the person who has to act on it. */
const KINDS: Record<string, string> = {
  LATE_SMS: 'An SMS came after the customer was refunded',
  ORPHAN_NUMBER: 'A number the provider sold that no activation recorded (cancelled, or counted as a loss)',
  CANCEL_REFUSED: 'The provider refused a cancel',
  DATA_REJECTED: 'Data from the provider the database refused; the activation was settled',
  REFUND_MISSING: 'We cancelled (and refunded), but the provider still lists the number open',
  UPSTREAM_MISSING: 'An activation we hold open that the provider no longer lists',
};

/** Upstream incidents: open ones first, resolved on demand (audited). */
export function Incidents() {
  const [open, setOpen] = useState(true);
  const list = useLoad((signal) => api.get<{ incidents: Incident[] }>('/admin/incidents', { query: { open: String(open) }, signal }).then((r) => r.incidents), [open]);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);

  async function resolve(incident: Incident) {
    setBusy(incident.id);
    setError(null);
    try {
      await api.post(`/admin/incidents/${incident.id}/resolve`);
      list.reload();
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(null);
    }
  }

  return (
    <section className="card stack" aria-labelledby="incidents-title">
      <div className="row">
        <h1 id="incidents-title" className="grow">
          Incidents
        </h1>
        <label className="row">
          <input type="checkbox" checked={!open} onChange={(e) => setOpen(!e.target.checked)} data-testid="incidents-all" /> Include resolved
        </label>
      </div>
      {error && <ErrorMessage message={error} />}
      <LoadedList list={list} empty={open ? 'No open incidents.' : 'No incidents.'}>
        {(rows) => (
          <Table testId="incidents" columns={[{ label: 'Opened' }, { label: 'Kind' }, { label: 'Provider' }, { label: 'Activation' }, { label: 'Details' }, { label: 'Actions', hidden: true }]} cards>
            {rows.map((i) => (
              <tr key={i.id} data-testid="incident-row" data-kind={i.kind} data-id={i.id}>
                <td data-label="Opened">{formatDateTime(i.createdAt)}</td>
                <td data-label="Kind">
                  <strong>{i.kind}</strong>
                  <div className="muted small-text">{KINDS[i.kind] ?? ''}</div>
                </td>
                <td data-label="Provider">
                  {i.providerId}
                  {i.upstreamId && <div className="muted small-text">#{i.upstreamId}</div>}
                </td>
                <td data-label="Activation">{i.activationId ? <a href={`#/activation/${encodeURIComponent(i.activationId)}`}>{i.activationId}</a> : '—'}</td>
                <td data-label="Details">
                  <pre>{JSON.stringify(i.details, null, 1)}</pre>
                </td>
                <td data-label="">
                  {i.resolvedAt ? (
                    <span className="muted small-text">Resolved {formatDateTime(i.resolvedAt)}</span>
                  ) : (
                    <button type="button" className="small" disabled={busy != null} onClick={() => resolve(i)} data-testid="incident-resolve">
                      {busy === i.id ? 'Resolving…' : 'Resolve'}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </Table>
        )}
      </LoadedList>
    </section>
  );
}
