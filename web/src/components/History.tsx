import { useEffect } from 'react';
import { api, feed } from '../client';
import { describeError } from '../lib/api';
import { countryName, formatDateTime, serviceName, STATUS_LABELS } from '../lib/format';
import { useLoad } from '../lib/hooks';
import { useLiveStatus } from '../lib/live';
import { formatUsd } from '../lib/money';
import { isLive, type Activation } from '../lib/types';
import { Empty, ErrorMessage, Loading, StatusBadge } from './ui';

/** Every activation of the user, newest first, kept current by the live feed. */
export function History() {
  const list = useLoad(
    (signal) =>
      api.get<{ activations: Activation[] }>('/numbers', { signal }).then((r) =>
        [...r.activations].sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt)),
      ),
    [],
  );
  const { setData, reload } = list;
  const live = useLiveStatus(feed);

  useEffect(
    () =>
      feed.onActivation((activation) =>
        setData((current) => {
          if (!current) return current;
          const index = current.findIndex((a) => a.id === activation.id);
          if (index < 0) return [activation, ...current];
          const next = [...current];
          next[index] = activation;
          return next;
        }),
      ),
    [setData],
  );
  useEffect(() => feed.onReopen(reload), [reload]);

  // Stream down while something can still change: refresh the list every few seconds.
  const anyLive = list.data?.some(isLive) ?? false;
  useEffect(() => {
    if (!anyLive || live === 'open') return;
    const timer = setInterval(reload, 3000);
    return () => clearInterval(timer);
  }, [anyLive, live, reload]);

  return (
    <section className="card stack" aria-labelledby="history-title">
      <h1 id="history-title">My numbers</h1>
      {list.error && !list.data ? (
        <ErrorMessage message={describeError(list.error)} onRetry={reload} />
      ) : !list.data ? (
        <Loading />
      ) : list.data.length === 0 ? (
        <Empty>
          You have not bought a number yet. <a href="#/buy">Buy your first number</a>.
        </Empty>
      ) : (
        <ul className="rows" data-testid="history">
          {list.data.map((a) => (
            <li key={a.id}>
              <a className="row-button" href={`#/numbers/${encodeURIComponent(a.id)}`} data-testid="history-row" data-id={a.id}>
                <span className="grow">
                  <strong>{serviceName(a.serviceCode)}</strong> <span className="muted">{countryName(a.countryIso)}</span>
                  <br />
                  <span className="muted small-text">
                    {a.phone ?? 'no number'} · {formatDateTime(a.createdAt)}
                  </span>
                </span>
                <span className="price">{formatUsd(a.priceMicros ?? a.heldMicros)}</span>
                <StatusBadge status={a.status} label={STATUS_LABELS[a.status]} />
              </a>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
