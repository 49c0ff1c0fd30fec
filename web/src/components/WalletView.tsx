import { useEffect } from 'react';
import { describeError } from '../../../ui/api';
import { formatDateTime } from '../../../ui/format';
import { useLoad } from '../../../ui/hooks';
import { formatDelta, formatUsd } from '../../../ui/money';
import { Table } from '../../../ui/lists';
import type { LedgerEntry, Wallet } from '../../../ui/types';
import { Empty, ErrorMessage, Loading } from '../../../ui/components';
import { api, balance, feed } from '../client';

const KIND_LABELS: Record<LedgerEntry['kind'], string> = {
  CREDIT: 'Top-up',
  HOLD: 'Held for a number',
  CAPTURE: 'Paid',
  RELEASE: 'Refund',
  DEBIT: 'Debit',
};

const LEDGER_COLUMNS = [{ label: 'Date' }, { label: 'What' }, { label: 'Balance', numeric: true }, { label: 'Held', numeric: true }];

/** Balance, money held for numbers waiting for SMS, and the ledger behind both. */
export function WalletView() {
  const wallet = useLoad((signal) => api.get<{ wallet: Wallet; ledger: LedgerEntry[] }>('/wallet', { signal }), []);
  const { reload } = wallet;
  // Purchases, SMS and refunds move money: refresh when an activation changes.
  useEffect(() => feed.onActivation(() => reload()), [reload]);
  // The top bar shows the same balance.
  const current = wallet.data?.wallet;
  useEffect(() => {
    if (current) balance.set(current);
  }, [current]);

  if (!wallet.data) {
    return wallet.error ? <ErrorMessage message={describeError(wallet.error)} onRetry={reload} /> : <Loading />;
  }
  const { wallet: balances, ledger } = wallet.data;

  return (
    <div className="stack" aria-busy={wallet.loading}>
      <section className="card" aria-labelledby="wallet-title">
        <h1 id="wallet-title">Wallet</h1>
        <dl className="facts big">
          <div>
            <dt>Balance</dt>
            <dd data-testid="balance">{formatUsd(balances.availableMicros)}</dd>
          </div>
          <div>
            <dt>Held for numbers in progress</dt>
            <dd data-testid="held">{formatUsd(balances.heldMicros)}</dd>
          </div>
        </dl>
        <p className="muted small-text">
          Held money is charged when the SMS arrives, and returned automatically when none does.
        </p>
        <a className="button primary" href="#/wallet/topup" data-testid="topup-link">
          Top up
        </a>
      </section>

      <section className="card stack" aria-labelledby="ledger-title">
        <div className="row">
          <h2 id="ledger-title" className="grow">
            History
          </h2>
          <button type="button" className="small" onClick={reload} disabled={wallet.loading}>
            {wallet.loading ? 'Refreshing…' : 'Refresh'}
          </button>
        </div>
        {wallet.error ? <ErrorMessage message={describeError(wallet.error)} /> : null}
        {ledger.length === 0 ? (
          <Empty>No movements yet.</Empty>
        ) : (
          <Table testId="ledger" columns={LEDGER_COLUMNS}>
            {ledger.map((entry) => (
              <tr key={entry.id} data-testid="ledger-row" data-kind={entry.kind}>
                <td>{formatDateTime(entry.createdAt)}</td>
                <td>
                  {KIND_LABELS[entry.kind] ?? entry.kind}
                  {entry.purchase ? (
                    <div className="small-text" data-testid="ledger-purchase">
                      <a href={`#/numbers/${encodeURIComponent(entry.purchase.activationId)}`}>
                        {entry.purchase.serviceName} · {entry.purchase.countryName}
                      </a>
                    </div>
                  ) : (
                    entry.memo && <div className="muted small-text">{entry.memo}</div>
                  )}
                </td>
                <td className="num">{formatDelta(entry.availableDelta)}</td>
                <td className="num">{formatDelta(entry.heldDelta)}</td>
              </tr>
            ))}
          </Table>
        )}
      </section>
    </div>
  );
}
