import { useEffect } from 'react';
import { formatDateTime, formatPhone } from '../../../ui/format';
import { useLoad } from '../../../ui/hooks';
import { LoadedList } from '../../../ui/lists';
import { formatUsd } from '../../../ui/money';
import type { Activation } from '../../../ui/types';
import { StatusBadge } from '../../../ui/components';
import { api, feed } from '../client';
import { codesOf, isLiveStatus, priceShown, refundMicros, statusLabel } from '../lib/activation-view';
import { useLiveStatus } from '../lib/live';

/** Every activation of the user, newest first: status, price, codes and refunds, kept current by the live feed. */
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
  const anyLive = list.data?.some((a) => isLiveStatus(a.status)) ?? false;
  useEffect(() => {
    if (!anyLive || live === 'open') return;
    const timer = setInterval(reload, 3000);
    return () => clearInterval(timer);
  }, [anyLive, live, reload]);

  return (
    <section className="card stack" aria-labelledby="history-title" aria-busy={list.loading}>
      <h1 id="history-title">My numbers</h1>
      <LoadedList
        list={list}
        empty={
          <>
            You have not bought a number yet. <a href="#/buy">Buy your first number</a>.
          </>
        }
        keepRowsOnError
      >
        {(rows) => (
          <ul className="rows" data-testid="history">
            {rows.map((a) => {
              const codes = codesOf(a);
              const refund = refundMicros(a);
              return (
                <li key={a.id}>
                  <a className="row-button" href={`#/numbers/${encodeURIComponent(a.id)}`} data-testid="history-row" data-id={a.id} data-status={a.status}>
                    <span className="grow">
                      <strong>{a.serviceName}</strong> <span className="muted">{a.countryName}</span>
                      <br />
                      <span className="muted small-text">
                        {a.phone ? formatPhone(a.phone, a.countryDial) : 'no number'} · {formatDateTime(a.createdAt)}
                      </span>
                      {codes.length > 0 && (
                        <>
                          <br />
                          <span className="small-text" data-testid="history-codes">
                            {codes.length === 1 ? 'Code ' : 'Codes '}
                            <strong className="code-inline">{codes.join(', ')}</strong>
                          </span>
                        </>
                      )}
                    </span>
                    <span className="history-money">
                      <span className="price">{priceShown(a)}</span>
                      {refund != null && (
                        <span className="refund small-text" data-testid="history-refund">
                          refunded {formatUsd(refund)}
                        </span>
                      )}
                    </span>
                    <StatusBadge status={a.status} label={statusLabel(a)} />
                  </a>
                </li>
              );
            })}
          </ul>
        )}
      </LoadedList>
    </section>
  );
}
