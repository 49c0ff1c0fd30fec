import { useState } from 'react';
import { TextField } from '../../ui/components';
import { formatDateTime } from '../../ui/format';
import { useDebounced, useLoad } from '../../ui/hooks';
import { LoadedList, Table } from '../../ui/lists';
import { api } from './client';
import type { AuditEntry } from './types';

const PAGE = 100;

/** The audit log, newest first: filter by action and target, page back with "Older". */
export function Audit() {
  const [action, setAction] = useState('');
  const [targetInput, setTarget] = useState('');
  const target = useDebounced(targetInput.trim(), 300);
  const [before, setBefore] = useState<string[]>([]);
  const cursor = before.at(-1) ?? '';
  const actions = useLoad((signal) => api.get<{ actions: string[] }>('/admin/audit/actions', { signal }).then((r) => r.actions), []);
  const list = useLoad(
    (signal) => api.get<{ entries: AuditEntry[] }>('/admin/audit', { query: { action, targetId: target, before: cursor, limit: PAGE }, signal }).then((r) => r.entries),
    [action, target, cursor],
  );
  const reset = () => setBefore([]);

  return (
    <section className="card stack" aria-labelledby="audit-title">
      <h1 id="audit-title">Audit log</h1>
      <form className="filters" role="search" aria-label="Filter the audit log" onSubmit={(e) => e.preventDefault()}>
        <div>
          <label htmlFor="audit-action">Action</label>
          <select
            id="audit-action"
            value={action}
            onChange={(e) => {
              setAction(e.target.value);
              reset();
            }}
            data-testid="audit-action"
          >
            <option value="">All actions</option>
            {actions.data?.map((a) => (
              <option key={a} value={a}>
                {a}
              </option>
            ))}
          </select>
        </div>
        <div>
          <TextField
            id="audit-target"
            label="Target id (user, activation, provider)"
            autoComplete="off"
            value={targetInput}
            onChange={(v) => {
              setTarget(v);
              reset();
            }}
            data-testid="audit-target"
          />
        </div>
      </form>
      <LoadedList list={list} empty="No entries match.">
        {(rows) => (
          <>
            <Table testId="audit" columns={[{ label: 'When' }, { label: 'Action' }, { label: 'Actor' }, { label: 'Target' }, { label: 'Details' }]} cards>
              {rows.map((e) => (
                <tr key={e.id} data-testid="audit-row" data-action={e.action}>
                  <td data-label="When">{formatDateTime(e.createdAt)}</td>
                  <td data-label="Action">{e.action}</td>
                  <td data-label="Actor">
                    {e.actorId ? <a href={`#/user/${encodeURIComponent(e.actorId)}`}>{e.actorId.slice(0, 8)}</a> : '—'}
                    {e.ip && <div className="muted small-text">{e.ip}</div>}
                  </td>
                  <td data-label="Target">
                    {e.targetType === 'activation' && e.targetId ? (
                      <a href={`#/activation/${encodeURIComponent(e.targetId)}`}>{e.targetId}</a>
                    ) : e.targetType === 'user' && e.targetId ? (
                      <a href={`#/user/${encodeURIComponent(e.targetId)}`}>{e.targetId}</a>
                    ) : (
                      `${e.targetType ?? ''} ${e.targetId ?? ''}`.trim() || '—'
                    )}
                  </td>
                  <td data-label="Details">
                    <pre>{JSON.stringify(e.details)}</pre>
                  </td>
                </tr>
              ))}
            </Table>
            <div className="row">
              <button type="button" className="small" disabled={before.length === 0} onClick={() => setBefore((b) => b.slice(0, -1))}>
                Newer
              </button>
              <button type="button" className="small" disabled={rows.length < PAGE} onClick={() => setBefore((b) => [...b, rows[rows.length - 1].id])} data-testid="audit-older">
                Older
              </button>
            </div>
          </>
        )}
      </LoadedList>
    </section>
  );
}
