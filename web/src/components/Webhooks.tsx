import { useEffect, useId, useState, type FormEvent } from 'react';
import { formatDateTime } from '../../../ui/format';
import { useAction, useLoad } from '../../../ui/hooks';
import { LoadedList, Table } from '../../../ui/lists';
import { formatUsd, parseDollars } from '../../../ui/money';
import { CopyButton, ErrorMessage, StatusBadge, TextField } from '../../../ui/components';
import { api } from '../client';

/** /api/webhook (docs/webhooks.md). */
interface WebhookSettings {
  url: string;
  enabled: boolean;
  format: 'SIMGATE' | 'SMS_ACTIVATE';
  balanceLowThresholdMicros: string | null;
  disabledAt: string | null;
  disabledReason: string | null;
  createdAt: string;
  updatedAt: string;
}

interface WebhookDelivery {
  eventId: string;
  type: string;
  activationId: string | null;
  status: 'PENDING' | 'DELIVERED' | 'FAILED';
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  lastResponseMs: number | null;
  lastAttemptAt: string | null;
  deliveredAt: string | null;
  createdAt: string;
}

const DELIVERY_COLUMNS = [{ label: 'Event' }, { label: 'Status' }, { label: 'Attempts', numeric: true }, { label: 'Last answer' }, { label: 'Response time', numeric: true }, { label: 'Created' }, { label: 'Actions', hidden: true }];

/**
 * Partner webhooks on the API keys page: where events go, the signing secret (shown once), the
 * notice when SimGate disabled the endpoint, and the delivery log with replay.
 */
export function Webhooks() {
  const settings = useLoad((signal) => api.get<{ webhook: WebhookSettings | null }>('/webhook', { signal }).then((r) => r.webhook), []);
  const deliveries = useLoad((signal) => api.get<{ deliveries: WebhookDelivery[] }>('/webhook/deliveries?limit=50', { signal }).then((r) => r.deliveries), []);
  const [secret, setSecret] = useState<string | null>(null);

  return (
    <>
      <WebhookForm
        current={settings.data ?? null}
        loaded={!settings.loading}
        onSaved={(webhook, newSecret) => {
          settings.setData(() => webhook);
          if (newSecret) setSecret(newSecret);
        }}
      />
      {secret && (
        <section className="card stack secret-card" aria-labelledby="webhook-secret-title" data-testid="webhook-secret">
          <h2 id="webhook-secret-title">Webhook signing secret</h2>
          <p className="notice" role="status">
            Copy it now: it is shown only once. Check every delivery&apos;s <code>SimGate-Signature</code> with it.
          </p>
          <div className="secret">
            <span className="secret-label">Secret</span>
            <code data-testid="webhook-secret-value">{secret}</code>
            <CopyButton text={secret} label="webhook secret" testId="copy-webhook-secret" />
          </div>
          <button type="button" onClick={() => setSecret(null)}>
            I have saved it
          </button>
        </section>
      )}
      <section className="card stack" aria-labelledby="deliveries-title" aria-busy={deliveries.loading}>
        <div className="row">
          <h2 id="deliveries-title">Webhook deliveries</h2>
          <button type="button" className="small" onClick={deliveries.reload} data-testid="reload-deliveries">
            Refresh
          </button>
        </div>
        <LoadedList list={deliveries} empty="No webhook deliveries yet." keepRowsOnError>
          {(rows) => (
            <Table testId="webhook-deliveries" columns={DELIVERY_COLUMNS}>
              {rows.map((delivery) => (
                <DeliveryRow
                  key={delivery.eventId}
                  delivery={delivery}
                  canReplay={Boolean(settings.data?.enabled)}
                  onReplayed={(updated) => deliveries.setData((list) => list?.map((d) => (d.eventId === updated.eventId ? updated : d)))}
                />
              ))}
            </Table>
          )}
        </LoadedList>
      </section>
    </>
  );
}

function WebhookForm({ current, loaded, onSaved }: { current: WebhookSettings | null; loaded: boolean; onSaved: (webhook: WebhookSettings, secret: string | null) => void }) {
  const id = useId();
  const [url, setUrl] = useState('');
  const [format, setFormat] = useState<WebhookSettings['format']>('SIMGATE');
  const [threshold, setThreshold] = useState('');
  const [enabled, setEnabled] = useState(true);
  const { busy, error, setError, run } = useAction();

  useEffect(() => {
    if (!current) return;
    setUrl(current.url);
    setFormat(current.format);
    setThreshold(current.balanceLowThresholdMicros ? formatUsd(current.balanceLowThresholdMicros).replace(/^\$/, '') : '');
    setEnabled(current.enabled);
  }, [current]);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (busy) return;
    let balanceLowThresholdMicros: string | null = null;
    if (threshold.trim() !== '') {
      try {
        balanceLowThresholdMicros = parseDollars(threshold).toString();
      } catch (err) {
        setError((err as Error).message);
        return;
      }
    }
    await run(async () => {
      const saved = await api.request<{ webhook: WebhookSettings; secret: string | null }>('PUT', '/webhook', { body: { url: url.trim(), enabled, format, balanceLowThresholdMicros } });
      onSaved(saved.webhook, saved.secret);
    });
  }

  return (
    <section className="card stack" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Webhook</h2>
      <p className="muted">
        SimGate posts your activations&apos; events (number ready, SMS received, completed, expired, cancelled, low balance) to this URL,
        signed, retried for a day. See docs/webhooks.md.
      </p>
      {current?.disabledAt && (
        <p className="error" role="alert" data-testid="webhook-disabled-notice">
          Disabled {formatDateTime(current.disabledAt)}: {current.disabledReason} Fix the endpoint, save it enabled, then replay the failed deliveries.
        </p>
      )}
      <form className="stack" onSubmit={submit} data-testid="webhook-form">
        <TextField id={`${id}-url`} label="URL" type="url" required maxLength={2000} value={url} onChange={setUrl} placeholder="https://example.com/simgate" data-testid="webhook-url" />
        <label htmlFor={`${id}-format`}>Format</label>
        <select id={`${id}-format`} value={format} onChange={(e) => setFormat(e.target.value as WebhookSettings['format'])} data-testid="webhook-format">
          <option value="SIMGATE">SimGate events (signed JSON)</option>
          <option value="SMS_ACTIVATE">SMS-Activate webhook (SMS only)</option>
        </select>
        <TextField id={`${id}-threshold`} label="Low-balance alert below (USD, empty for none)" inputMode="decimal" value={threshold} onChange={setThreshold} placeholder="e.g. 5.00" data-testid="webhook-threshold" />
        <label className="check">
          <input type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} data-testid="webhook-enabled" />
          <span>Enabled</span>
        </label>
        {error && <ErrorMessage message={error} />}
        <button type="submit" className="primary" disabled={busy || !loaded} data-testid="save-webhook">
          {busy ? 'Saving…' : current ? 'Save webhook' : 'Create webhook'}
        </button>
      </form>
    </section>
  );
}

function DeliveryRow({ delivery, canReplay, onReplayed }: { delivery: WebhookDelivery; canReplay: boolean; onReplayed: (delivery: WebhookDelivery) => void }) {
  const { busy, error, run } = useAction();
  const answer = delivery.lastError ?? (delivery.lastStatusCode ? `HTTP ${delivery.lastStatusCode}` : '—');
  return (
    <tr data-testid="webhook-delivery-row" data-status={delivery.status} data-event-id={delivery.eventId}>
      <td>
        <code>{delivery.type}</code>
      </td>
      <td>
        <StatusBadge status={delivery.status} label={delivery.status.toLowerCase()} />
      </td>
      <td className="num">{delivery.attempts}</td>
      <td>{answer}</td>
      <td className="num">{delivery.lastResponseMs === null ? '—' : `${delivery.lastResponseMs} ms`}</td>
      <td>{formatDateTime(delivery.createdAt)}</td>
      <td className="num">
        <button
          type="button"
          className="small"
          disabled={busy || !canReplay}
          onClick={() => void run(async () => onReplayed((await api.post<{ delivery: WebhookDelivery }>(`/webhook/deliveries/${encodeURIComponent(delivery.eventId)}/replay`)).delivery))}
          aria-label={`Replay ${delivery.type} event`}
          data-testid="replay-delivery"
        >
          {busy ? 'Replaying…' : 'Replay'}
        </button>
        {error && <ErrorMessage message={error} />}
      </td>
    </tr>
  );
}
