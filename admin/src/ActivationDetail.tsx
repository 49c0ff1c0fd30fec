import { useEffect, useState, type FormEvent } from 'react';
import { describeError } from '../../ui/api';
import { ErrorMessage, Loading, StatusBadge, TextField } from '../../ui/components';
import { countryName, formatDateTime } from '../../ui/format';
import { useLoad } from '../../ui/hooks';
import { Table } from '../../ui/lists';
import { formatDelta, formatUsd } from '../../ui/money';
import { statusLabel } from '../../ui/status';
import { isLive, type Activation } from '../../ui/types';
import { api } from './client';
import type { ActivationDetail as Detail } from './types';

const time = (iso: string | null) => (iso ? new Date(iso).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }) : '—');
const REFRESH_MS = 5000;
/** Temporal's own attributes (build ids) say nothing to an admin. */
const shownAttributes = (attributes: Record<string, unknown>) => Object.entries(attributes).filter(([key]) => key.startsWith('SimGate'));

/**
 * One activation as ops need it: the workflow's state (its query while it runs), pending steps
 * with their attempt and last error, the history as a timeline, SMS, money movements, a link into
 * the Temporal UI, and the admin actions: cancel, retry a stuck step, terminate with a reason.
 */
export function ActivationDetail({ id }: { id: string }) {
  const detail = useLoad((signal) => api.get<Detail>(`/admin/activations/${encodeURIComponent(id)}`, { signal }), [id]);
  const [notice, setNotice] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [terminating, setTerminating] = useState(false);
  const [reason, setReason] = useState('');
  const live = detail.data?.workflow?.status === 'RUNNING';
  const { reload } = detail;
  // While the workflow runs, its state, pending steps and history change on their own.
  useEffect(() => {
    if (!live) return;
    const timer = setInterval(reload, REFRESH_MS);
    return () => clearInterval(timer);
  }, [live, reload]);

  async function act(name: string, call: () => Promise<string>) {
    setBusy(name);
    setError(null);
    setNotice(null);
    try {
      setNotice(await call());
      detail.reload();
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(null);
    }
  }

  const cancel = () =>
    act('cancel', async () => {
      if (!window.confirm('Cancel this activation? The number goes back to the provider and the held funds are released.')) return 'Not cancelled.';
      const r = await api.post<{ activation: Activation; cancellation: { state: 'DONE' } | { state: 'SCHEDULED'; at: string } }>(`/admin/activations/${encodeURIComponent(id)}/cancel`);
      return r.cancellation.state === 'SCHEDULED'
        ? `The provider does not allow cancelling before ${formatDateTime(r.cancellation.at)}; the activation will be cancelled and refunded then.`
        : `Activation ${statusLabel(r.activation).toLowerCase()}.`;
    });
  const retry = () =>
    act('retry', async () => {
      const r = await api.post<{ reset: string[] }>(`/admin/activations/${encodeURIComponent(id)}/retry-step`);
      return `Retrying now: ${r.reset.join(', ')}.`;
    });
  function terminate(event: FormEvent) {
    event.preventDefault();
    void act('terminate', async () => {
      const r = await api.post<{ activation: Activation }>(`/admin/activations/${encodeURIComponent(id)}/terminate`, { reason: reason.trim() });
      setTerminating(false);
      setReason('');
      return `Terminated: the activation is ${statusLabel(r.activation).toLowerCase()}; an open hold was refunded.`;
    });
  }

  if (detail.error && !detail.data) return <ErrorMessage message={describeError(detail.error)} onRetry={detail.reload} />;
  if (!detail.data) return <Loading />;
  const { activation: a, workflow, timeline, money, temporalUiUrl } = detail.data;
  const running = workflow?.status === 'RUNNING';
  // The workflow ended without recording it (terminated in the Temporal UI): the books still need closing.
  const orphaned = !running && isLive(a);
  const retrying = workflow?.pendingActivities.filter((p) => p.attempt > 1 || p.lastFailure) ?? [];
  // The activation's own steps are local activities, never pending: one that keeps failing leaves
  // a failed step in the history while the workflow pauses in a stuck phase before the next attempt.
  const phase = workflow?.searchAttributes.SimGatePhase;
  const lastFailedStep = [...timeline].reverse().find((e) => e.kind === 'step-failed');
  const pausing = running && retrying.length === 0 && (phase === 'BUYING' || phase === 'CANCELLING') && lastFailedStep !== undefined;
  const canRetry = retrying.length > 0 || pausing;

  return (
    <div className="stack">
      <p>
        <a href="#/activations">← All activations</a>
      </p>
      <section className="card stack" aria-labelledby="activation-title" data-testid="activation-detail" data-status={a.status}>
        <div className="row">
          <h1 id="activation-title" className="grow">
            {a.serviceCode} · {countryName(a.countryIso)}
          </h1>
          <StatusBadge status={a.status} label={statusLabel(a)} />
          {canRetry && (
            <span className="badge badge-stuck" data-testid="retrying-badge">
              Retrying
            </span>
          )}
        </div>
        <dl className="details">
          <dt>Activation</dt>
          <dd>
            <code>{a.id}</code>
          </dd>
          <dt>Customer</dt>
          <dd>
            {a.userEmail ? <a href={`#/user/${encodeURIComponent(a.userId ?? '')}`}>{a.userEmail}</a> : a.userId}
          </dd>
          <dt>Phone</dt>
          <dd data-testid="detail-phone">{a.phone ?? '—'}</dd>
          <dt>Provider</dt>
          <dd>{a.providerId ?? '—'}</dd>
          <dt>Held · price</dt>
          <dd>
            {formatUsd(a.heldMicros)} · {formatUsd(a.priceMicros)}
          </dd>
          <dt>Created · expires</dt>
          <dd>
            {formatDateTime(a.createdAt)} · {formatDateTime(a.expiresAt)}
          </dd>
          {a.failureReason && (
            <>
              <dt>Failure</dt>
              <dd>{a.failureReason}</dd>
            </>
          )}
          <dt>Workflow</dt>
          <dd data-testid="workflow-status">
            {workflow ? `${workflow.status} · ${workflow.historyLength} events` : 'no longer kept by Temporal'}
            {temporalUiUrl && (
              <>
                {' · '}
                <a href={temporalUiUrl} target="_blank" rel="noreferrer" data-testid="temporal-link">
                  Open in Temporal UI
                </a>
              </>
            )}
          </dd>
          {workflow && shownAttributes(workflow.searchAttributes).length > 0 && (
            <>
              <dt>Search attributes</dt>
              <dd className="small-text">
                {shownAttributes(workflow.searchAttributes)
                  .map(([k, v]) => `${k.replace(/^SimGate/, '')}=${String(v)}`)
                  .join(' · ')}
              </dd>
            </>
          )}
        </dl>
        {error && <ErrorMessage message={error} />}
        {notice && (
          <p className="notice" role="status" data-testid="detail-notice">
            {notice}
          </p>
        )}
        <div className="actions">
          <button type="button" className="danger" onClick={cancel} disabled={!isLive(a) || a.messages.length > 0 || busy != null} data-testid="admin-cancel">
            {busy === 'cancel' ? 'Cancelling…' : 'Cancel and refund'}
          </button>
          <button type="button" onClick={retry} disabled={!running || !canRetry || busy != null} data-testid="retry-step">
            {busy === 'retry' ? 'Retrying…' : 'Retry stuck step now'}
          </button>
          <button type="button" onClick={() => setTerminating(!terminating)} disabled={!(running || orphaned) || busy != null} aria-expanded={terminating} data-testid="terminate-open">
            {orphaned ? 'Settle and close…' : 'Terminate…'}
          </button>
        </div>
        {terminating && (
          <form className="stack inline-form" onSubmit={terminate} aria-label="Terminate the workflow" data-testid="terminate-form">
            <p className="muted small-text">
              {orphaned
                ? 'The workflow has ended without closing this activation: an open hold is refunded and the activation closed as failed.'
                : 'Ends the workflow at once, without its own clean-up: the hold is refunded here, the number is not cancelled at the provider (it expires there). Use Cancel when the workflow can still act.'}
            </p>
            <TextField id="terminate-reason" label="Reason (kept in the audit log)" required minLength={3} maxLength={500} value={reason} onChange={setReason} data-testid="terminate-reason" />
            <div className="row">
              <button type="submit" className="danger" disabled={busy != null || reason.trim().length < 3} data-testid="terminate-submit">
                {busy === 'terminate' ? 'Terminating…' : 'Terminate'}
              </button>
            </div>
          </form>
        )}
      </section>

      {pausing && lastFailedStep && (
        <section className="card stack" aria-labelledby="stuck-title" data-testid="stuck-step">
          <h2 id="stuck-title">Step being retried</h2>
          <p>
            {lastFailedStep.title} at {time(lastFailedStep.at)}; the workflow waits in phase {String(phase)} before asking the provider again.
          </p>
          <p className="error-text" data-testid="pending-error">
            {lastFailedStep.detail ?? '—'}
          </p>
        </section>
      )}

      {workflow && workflow.pendingActivities.length > 0 && (
        <section className="card stack" aria-labelledby="pending-title">
          <h2 id="pending-title">Pending steps</h2>
          <Table testId="pending-activities" columns={[{ label: 'Step' }, { label: 'State' }, { label: 'Attempt', numeric: true }, { label: 'Next attempt' }, { label: 'Last error' }]} cards>
            {workflow.pendingActivities.map((p) => (
              <tr key={p.activityId} data-testid="pending-activity" data-attempt={p.attempt}>
                <td data-label="Step">{p.type}</td>
                <td data-label="State">{p.state}</td>
                <td data-label="Attempt" className="num">
                  {p.attempt}
                  {p.maximumAttempts ? ` / ${p.maximumAttempts}` : ''}
                </td>
                <td data-label="Next attempt">{time(p.nextAttemptAt)}</td>
                <td data-label="Last error" data-testid="pending-error">
                  {p.lastFailure?.message ?? '—'}
                </td>
              </tr>
            ))}
          </Table>
        </section>
      )}

      <section className="card stack" aria-labelledby="sms-title">
        <h2 id="sms-title">SMS</h2>
        {a.messages.length === 0 ? (
          <p className="muted">No SMS yet.</p>
        ) : (
          <ul className="rows" data-testid="detail-sms">
            {a.messages.map((m) => (
              <li key={m.seq} className="row">
                <strong className="code-inline">{m.code ?? '—'}</strong>
                <span className="grow">{m.text}</span>
                <span className="muted small-text">{formatDateTime(m.receivedAt)}</span>
              </li>
            ))}
          </ul>
        )}
      </section>

      <section className="card stack" aria-labelledby="money-title">
        <h2 id="money-title">Money</h2>
        <p className="muted small-text" data-testid="hold-status">
          {money.hold ? `Hold ${money.hold.status.toLowerCase()}: ${formatUsd(money.hold.amountMicros)}${money.hold.capturedMicros ? `, ${formatUsd(money.hold.capturedMicros)} paid` : ''}` : 'No hold (nothing was reserved).'}
        </p>
        {money.entries.length > 0 && (
          <Table testId="money-entries" columns={[{ label: 'When' }, { label: 'Entry' }, { label: 'Balance', numeric: true }, { label: 'Held', numeric: true }]} cards>
            {money.entries.map((e) => (
              <tr key={e.id} data-testid="money-entry" data-kind={e.kind}>
                <td data-label="When">{formatDateTime(e.createdAt)}</td>
                <td data-label="Entry">{e.kind}</td>
                <td data-label="Balance" className="num">
                  {formatDelta(e.availableDeltaMicros)}
                </td>
                <td data-label="Held" className="num">
                  {formatDelta(e.heldDeltaMicros)}
                </td>
              </tr>
            ))}
          </Table>
        )}
      </section>

      <section className="card stack" aria-labelledby="timeline-title">
        <h2 id="timeline-title">History</h2>
        {timeline.length === 0 ? (
          <p className="muted">Temporal no longer keeps this workflow's history.</p>
        ) : (
          <ol className="timeline" data-testid="timeline">
            {timeline.map((e) => (
              <li key={e.id} className={e.kind} data-testid="timeline-event" data-kind={e.kind}>
                <span className="when">{time(e.at)}</span>
                <span>
                  <strong>{e.title}</strong>
                  {e.detail && <span className="muted"> — {e.detail}</span>}
                </span>
              </li>
            ))}
          </ol>
        )}
      </section>
    </div>
  );
}
