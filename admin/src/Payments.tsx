import { useState } from 'react';
import { describeError } from '../../ui/api';
import { Empty, ErrorMessage, Loading, StatusBadge } from '../../ui/components';
import { formatDateTime } from '../../ui/format';
import { useLoad } from '../../ui/hooks';
import { Table } from '../../ui/lists';
import { formatUsd } from '../../ui/money';
import { api } from './client';

interface Payment {
  id: string;
  userId: string;
  processor: string;
  status: string;
  amountMicros: string;
  currency: string;
  processorAmount: string | null;
  paidAmount: string | null;
  usdRate: string | null;
  creditedMicros: string | null;
  bonusMicros: string;
  feeMicros: string | null;
  reversedMicros: string;
  couponCode: string | null;
  createdAt: string;
}

const COLUMNS = [
  { label: 'Created' },
  { label: 'Status' },
  { label: 'Processor' },
  { label: 'Asked', numeric: true },
  { label: 'Paid' },
  { label: 'Credited', numeric: true },
  { label: 'Bonus', numeric: true },
  { label: 'Fee', numeric: true },
  { label: 'Taken back', numeric: true },
];
const STATUSES = ['', 'AWAITING_PAYMENT', 'CONFIRMED', 'CREDITED', 'EXPIRED', 'FAILED'];

/** Top-ups from every processor: status, amounts in both currencies with the recorded rate, fees, refunds. */
export function Payments() {
  const [status, setStatus] = useState('');
  const list = useLoad((signal) => api.get<{ payments: Payment[] }>('/admin/payments', { signal, query: { status: status || undefined, limit: 200 } }), [status]);

  return (
    <section className="card stack" aria-labelledby="payments-title">
      <div className="row">
        <h1 id="payments-title" className="grow">
          Payments
        </h1>
        <label htmlFor="payments-status">Status</label>
        <select id="payments-status" value={status} onChange={(e) => setStatus(e.target.value)}>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {s || 'All'}
            </option>
          ))}
        </select>
      </div>
      {list.error ? <ErrorMessage message={describeError(list.error)} onRetry={list.reload} /> : null}
      {!list.data ? (
        list.error ? null : <Loading />
      ) : list.data.payments.length === 0 ? (
        <Empty>No payments.</Empty>
      ) : (
        <Table testId="payments" columns={COLUMNS}>
          {list.data.payments.map((p) => (
            <tr key={p.id} data-testid="payment-row" data-status={p.status}>
              <td>
                {formatDateTime(p.createdAt)}
                <div className="muted small-text">{p.id}</div>
              </td>
              <td>
                <StatusBadge status={p.status} />
              </td>
              <td>{p.processor}</td>
              <td className="num">{formatUsd(p.amountMicros)}</td>
              <td>
                {p.paidAmount ?? '–'} {p.currency.toUpperCase()}
                {p.usdRate ? <div className="muted small-text">at {p.usdRate} USD</div> : null}
              </td>
              <td className="num">{p.creditedMicros ? formatUsd(p.creditedMicros) : '–'}</td>
              <td className="num">{p.bonusMicros !== '0' ? `${formatUsd(p.bonusMicros)} ${p.couponCode ?? ''}` : '–'}</td>
              <td className="num">{p.feeMicros ? formatUsd(p.feeMicros) : '–'}</td>
              <td className="num">{p.reversedMicros !== '0' ? formatUsd(p.reversedMicros) : '–'}</td>
            </tr>
          ))}
        </Table>
      )}
    </section>
  );
}
