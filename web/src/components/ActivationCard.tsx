import { useCallback, useEffect, useRef, useState } from 'react';
import { describeError } from '../../../ui/api';
import { formatDateTime, formatPhone } from '../../../ui/format';
import { useLoad, useNow } from '../../../ui/hooks';
import type { Activation, SmsMessage } from '../../../ui/types';
import { CopyButton, ErrorMessage, Loading, StatusBadge } from '../../../ui/components';
import { api, balance, feed, useOnline } from '../client';
import { highlightCode, isLiveStatus, messagesNewestFirst, outcomeText, priceShown, refundMicros, statusLabel, timeLeft, type Action } from '../lib/activation-view';
import { useLiveState } from '../lib/live';
import { ActivationActions } from './ActivationActions';
import { LivePill } from './LiveNotice';

const POLL_MS = 3000;
/** How often the page asks whether the cancel delay is over before leaving it to the next event. */
const CANCEL_CHECKS = 5;

/** One purchase, live: number, countdown, SMS codes and the actions the server allows right now. */
export function ActivationCard({ id }: { id: string }) {
  const path = `/numbers/${encodeURIComponent(id)}`;
  const loaded = useLoad((signal) => api.get<{ activation: Activation }>(path, { signal }).then((r) => r.activation), [path]);
  const { setData } = loaded;
  const activation = loaded.data;
  const live = useLiveState(feed);
  const online = useOnline();
  const now = useNow(1000);
  const [busy, setBusy] = useState<Action | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);

  /** Quiet refetch (polling, after reconnect, when the cancel delay ends): keeps what is shown on failure. */
  const refresh = useCallback(() => {
    api.get<{ activation: Activation }>(path).then(
      (r) => setData(() => r.activation),
      () => {
        // Keep showing the last known state; the next poll or event catches up (an ended session signs out globally).
      },
    );
  }, [path, setData]);

  useEffect(() => feed.onActivation((a) => a.id === id && setData(() => a)), [id, setData]);
  useEffect(() => feed.onReopen(refresh), [refresh]);

  // Stream down (or not up yet) while the activation can still change: poll it.
  const watching = activation != null && isLiveStatus(activation.status);
  useEffect(() => {
    if (!watching || live.status === 'open') return;
    const timer = setInterval(refresh, POLL_MS);
    return () => clearInterval(timer);
  }, [watching, live.status, refresh]);

  // The server does not push when the cancel delay ends: ask again once it has. The condition
  // must not read the clock: a countdown tick that passes the moment would cancel the timer
  // before it fired, leaving the button disabled until a reload (issue 14).
  const cancelAt = activation?.cancelAllowedAt ? Date.parse(activation.cancelAllowedAt) : NaN;
  const cancelLocked = watching && !activation.actions.cancel && activation.messages.length === 0 && Number.isFinite(cancelAt);
  const cancelChecks = useRef({ at: NaN, count: 0 });
  useEffect(() => {
    if (!cancelLocked) return;
    const checks = cancelChecks.current;
    if (checks.at !== cancelAt) cancelChecks.current = { at: cancelAt, count: 0 };
    // Each answer that still says "not yet" (clocks a little apart) asks again, a few times, slower each time.
    const { count } = cancelChecks.current;
    if (count >= CANCEL_CHECKS) return;
    const timer = setTimeout(() => {
      cancelChecks.current.count += 1;
      refresh();
    }, Math.max(0, cancelAt - Date.now()) + 300 * 2 ** count);
    return () => clearTimeout(timer);
  }, [cancelLocked, cancelAt, activation, refresh]);

  async function act(action: Action) {
    if (busy) return;
    setBusy(action);
    setActionError(null);
    try {
      const r = await api.post<{ activation: Activation }>(`${path}/${action}`);
      setData(() => r.activation);
      balance.refreshSoon(0);
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

  const left = watching ? timeLeft(activation.expiresAt, now) : null;
  const messages = messagesNewestFirst(activation.messages);
  const outcome = outcomeText(activation);

  return (
    <article className="card stack activation" data-testid="activation" data-status={activation.status} aria-labelledby="activation-title">
      <div className="row">
        <h1 id="activation-title" className="grow">
          {activation.serviceName} <span className="muted">· {activation.countryName}</span>
        </h1>
        {watching && <LivePill status={live.status} online={online} everOpened={live.everOpened} />}
        <StatusBadge status={activation.status} label={statusLabel(activation)} />
      </div>

      <div className="phone-row">
        {activation.phone ? (
          <>
            <span className="phone" data-testid="phone-number" data-phone={activation.phone}>
              {formatPhone(activation.phone, activation.countryDial)}
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
          <dd data-testid="activation-price">{priceShown(activation)}</dd>
        </div>
        {left && (
          <div>
            <dt id="countdown-label">Time left</dt>
            <dd data-testid="countdown" className={left.urgent ? 'urgent' : undefined}>
              {/* A timer role is not announced every second; the label says what it counts. */}
              <span role="timer" aria-labelledby="countdown-label">
                {left.text}
              </span>
            </dd>
          </div>
        )}
        <div>
          <dt>Bought</dt>
          <dd>{formatDateTime(activation.createdAt)}</dd>
        </div>
        <div>
          <dt>Order</dt>
          <dd className="order-id" data-testid="activation-id">
            {activation.id}
          </dd>
        </div>
      </dl>

      {outcome && (
        <p className={refundMicros(activation) != null ? 'notice' : 'muted'} data-testid="outcome">
          {outcome}
        </p>
      )}

      <section aria-labelledby="sms-title" className="stack">
        <h2 id="sms-title">SMS</h2>
        {/* The region exists before the first SMS, so its arrival is announced. */}
        <div aria-live="polite" aria-relevant="additions text">
          {messages.length === 0 ? (
            <p className="muted" data-testid="sms-empty">
              {watching ? 'Waiting for the SMS… it appears here as soon as it arrives.' : 'No SMS arrived.'}
            </p>
          ) : (
            <ul className="sms-list" data-testid="sms-list">
              {messages.map((m, index) => (
                <Sms key={m.seq} message={m} latest={index === 0} />
              ))}
            </ul>
          )}
        </div>
      </section>

      {actionError && <ErrorMessage message={actionError} />}

      {watching && <ActivationActions activation={activation} now={now} busy={busy} onAct={(action) => void act(action)} />}

      <p>
        <a href="#/numbers">All my numbers</a> · <a href="#/buy">Buy another number</a>
      </p>
    </article>
  );
}

function Sms({ message, latest }: { message: SmsMessage; latest: boolean }) {
  const { code, text } = message;
  return (
    <li className={latest ? 'sms latest' : 'sms'} data-testid="sms">
      {code && (
        <div className="row">
          <span className="sr-only">Code:</span>
          <strong className="sms-code" data-testid="sms-code">
            {code}
          </strong>
          <CopyButton text={code} label="code" testId="copy-code" />
        </div>
      )}
      <p className="sms-text">
        {highlightCode(text, code).map((part, i) => (part.code ? <mark key={i}>{part.text}</mark> : <span key={i}>{part.text}</span>))}
      </p>
      <time className="muted small-text" dateTime={message.receivedAt}>
        {formatDateTime(message.receivedAt)}
      </time>
    </li>
  );
}
