import { useCallback, useEffect, useState } from 'react';
import { api, feed } from '../client';
import { describeError } from '../lib/api';
import { countryName, formatDateTime, formatDuration, serviceName, STATUS_LABELS } from '../lib/format';
import { useLoad, useNow } from '../lib/hooks';
import { useLiveStatus } from '../lib/live';
import { formatUsd } from '../lib/money';
import { isLive, type Activation, type SmsMessage } from '../lib/types';
import { CopyButton, ErrorMessage, Loading, StatusBadge } from './ui';

type Action = 'cancel' | 'retry' | 'finish';
const POLL_MS = 3000;

/** One purchase, live: number, countdown, SMS codes and the actions the server allows right now. */
export function ActivationCard({ id }: { id: string }) {
  const path = `/numbers/${encodeURIComponent(id)}`;
  const loaded = useLoad((signal) => api.get<{ activation: Activation }>(path, { signal }).then((r) => r.activation), [path]);
  const { setData } = loaded;
  const activation = loaded.data;
  const live = useLiveStatus(feed);
  const now = useNow(1000);
  const [busy, setBusy] = useState<Action | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);

  /** Quiet refetch (polling, after reconnect, when the cancel delay ends): keeps what is shown on failure. */
  const refresh = useCallback(() => {
    api.get<{ activation: Activation }>(path).then(
      (r) => setData(() => r.activation),
      () => {
        // Keep showing the last known state; the next poll or event catches up (a 401 signs out globally).
      },
    );
  }, [path, setData]);

  useEffect(() => feed.onActivation((a) => a.id === id && setData(() => a)), [id, setData]);
  useEffect(() => feed.onReopen(refresh), [refresh]);

  // Stream down (or not up yet) while the activation can still change: poll it.
  const watching = activation != null && isLive(activation);
  useEffect(() => {
    if (!watching || live === 'open') return;
    const timer = setInterval(refresh, POLL_MS);
    return () => clearInterval(timer);
  }, [watching, live, refresh]);

  // The server does not push when the cancel delay ends: ask again once it has.
  const cancelAt = activation?.cancelAllowedAt ? Date.parse(activation.cancelAllowedAt) : NaN;
  const waitingForCancel = watching && !activation.actions.cancel && cancelAt > Date.now();
  useEffect(() => {
    if (!waitingForCancel) return;
    const timer = setTimeout(refresh, cancelAt - Date.now() + 300);
    return () => clearTimeout(timer);
  }, [waitingForCancel, cancelAt, refresh]);

  async function act(action: Action) {
    if (busy) return;
    setBusy(action);
    setActionError(null);
    try {
      const r = await api.post<{ activation: Activation }>(`${path}/${action}`);
      setData(() => r.activation);
    } catch (err) {
      setActionError(describeError(err));
      refresh();
    } finally {
      setBusy(null);
    }
  }

  if (!activation) {
    return loaded.error ? (
      <ErrorMessage message={describeError(loaded.error)} onRetry={loaded.reload} />
    ) : (
      <Loading label="Loading your number…" />
    );
  }

  const expiresAt = activation.expiresAt ? Date.parse(activation.expiresAt) : NaN;
  const cancelWait = Math.ceil((cancelAt - now) / 1000);
  const messages = [...activation.messages].sort((a, b) => b.seq - a.seq);
  const price = activation.priceMicros ?? activation.heldMicros;

  return (
    <article className="card stack activation" data-testid="activation" data-status={activation.status}>
      <div className="row">
        <h1 className="grow">
          {serviceName(activation.serviceCode)} <span className="muted">· {countryName(activation.countryIso)}</span>
        </h1>
        <StatusBadge status={activation.status} label={STATUS_LABELS[activation.status]} />
      </div>

      <div className="phone-row">
        {activation.phone ? (
          <>
            <span className="phone" data-testid="phone-number">
              {activation.phone}
            </span>
            <CopyButton text={activation.phone} label="phone number" testId="copy-phone" />
          </>
        ) : (
          <span className="muted" data-testid="phone-pending">
            {activation.status === 'RESERVED' ? 'Getting a number for you…' : 'No number was assigned.'}
          </span>
        )}
      </div>

      <dl className="facts">
        <div>
          <dt>{activation.priceMicros ? 'Price' : 'Held'}</dt>
          <dd data-testid="activation-price">{formatUsd(price)}</dd>
        </div>
        {watching && Number.isFinite(expiresAt) && (
          <div>
            <dt>Time left</dt>
            <dd data-testid="countdown">
              <span role="timer">{expiresAt > now ? formatDuration(expiresAt - now) : 'expiring…'}</span>
            </dd>
          </div>
        )}
        <div>
          <dt>Bought</dt>
          <dd>{formatDateTime(activation.createdAt)}</dd>
        </div>
      </dl>

      <Outcome activation={activation} price={price} />

      <section aria-labelledby="sms-title" className="stack">
        <h2 id="sms-title">SMS</h2>
        {messages.length === 0 ? (
          <p className="muted" data-testid="sms-empty">
            {watching ? 'Waiting for the SMS… it appears here as soon as it arrives.' : 'No SMS arrived.'}
          </p>
        ) : (
          <ul className="sms-list" data-testid="sms-list" aria-live="polite">
            {messages.map((m) => (
              <Sms key={m.seq} message={m} />
            ))}
          </ul>
        )}
      </section>

      {actionError && <ErrorMessage message={actionError} />}

      {watching && (
        <div className="actions">
          <button
            type="button"
            disabled={!activation.actions.cancel || busy != null}
            onClick={() => act('cancel')}
            data-testid="cancel-button"
          >
            {busy === 'cancel'
              ? 'Cancelling…'
              : !activation.actions.cancel && cancelWait > 0
                ? `Cancel (in ${cancelWait} s)`
                : 'Cancel'}
          </button>
          <button
            type="button"
            disabled={!activation.actions.retry || busy != null}
            onClick={() => act('retry')}
            data-testid="retry-button"
          >
            {busy === 'retry' ? 'Asking…' : 'Another SMS'}
          </button>
          <button
            type="button"
            className="primary"
            disabled={!activation.actions.finish || busy != null}
            onClick={() => act('finish')}
            data-testid="finish-button"
          >
            {busy === 'finish' ? 'Finishing…' : 'Finish'}
          </button>
        </div>
      )}

      <p>
        <a href="#/numbers">All my numbers</a> · <a href="#/buy">Buy another number</a>
      </p>
    </article>
  );
}

function Sms({ message }: { message: SmsMessage }) {
  const { code, text } = message;
  const at = code ? text.indexOf(code) : -1;
  return (
    <li className="sms" data-testid="sms">
      {code && (
        <div className="row">
          <strong className="sms-code" data-testid="sms-code">
            {code}
          </strong>
          <CopyButton text={code} label="code" testId="copy-code" />
        </div>
      )}
      <p className="sms-text">
        {code && at >= 0 ? (
          <>
            {text.slice(0, at)}
            <mark>{code}</mark>
            {text.slice(at + code.length)}
          </>
        ) : (
          text
        )}
      </p>
      <time className="muted small-text" dateTime={message.receivedAt}>
        {formatDateTime(message.receivedAt)}
      </time>
    </li>
  );
}

function Outcome({ activation, price }: { activation: Activation; price: string }) {
  const noSms = activation.messages.length === 0;
  let text: string | null = null;
  if (activation.status === 'COMPLETED') text = `Done. You paid ${formatUsd(price)}.`;
  else if (activation.status === 'FAILED')
    text = `We could not get a number${activation.failureReason ? `: ${activation.failureReason}` : '.'}`;
  else if (activation.status === 'EXPIRED' && noSms) text = 'No SMS arrived in time.';
  else if (activation.status === 'CANCELLED' && noSms) text = 'You cancelled this number.';
  if (!text) return null;
  const refunded = noSms && (activation.status === 'FAILED' || activation.status === 'EXPIRED' || activation.status === 'CANCELLED');
  return (
    <p className={refunded ? 'notice' : 'muted'} data-testid="outcome">
      {text} {refunded && `${formatUsd(activation.heldMicros)} went back to your balance.`}
    </p>
  );
}
