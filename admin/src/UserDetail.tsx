import { useState } from 'react';
import { describeError } from '../../ui/api';
import { ErrorMessage, Loading } from '../../ui/components';
import { formatDateTime } from '../../ui/format';
import { useAction, useLoad } from '../../ui/hooks';
import { Table } from '../../ui/lists';
import { formatDelta, formatUsd } from '../../ui/money';
import type { LedgerEntry, User, Wallet } from '../../ui/types';
import { api } from './client';
import type { AdminUser } from './types';
import { CreditForm } from './Users';

interface UserPage {
  user: AdminUser;
  wallet: Wallet | null;
  ledger: LedgerEntry[];
}

/** One customer: wallet and ledger, credit or debit with a reason, role, disable. */
export function UserDetail({ id, me }: { id: string; me: User }) {
  const page = useLoad((signal) => api.get<UserPage>(`/admin/users/${encodeURIComponent(id)}`, { signal }), [id]);
  const [open, setOpen] = useState<'credit' | 'debit' | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const change = useAction();

  if (page.error && !page.data) return <ErrorMessage message={describeError(page.error)} onRetry={page.reload} />;
  if (!page.data) return <Loading />;
  const { user, wallet, ledger } = page.data;
  const self = user.id === me.id;

  const update = (body: { role?: string; disabled?: boolean }, message: string) =>
    change.run(async () => {
      await api.request('PATCH', `/admin/users/${encodeURIComponent(user.id)}`, { body });
      setNotice(message);
      page.reload();
    });

  const moved = (kind: 'credit' | 'debit') => (next: Wallet, amount: bigint) => {
    setOpen(null);
    setNotice(`${kind === 'credit' ? 'Credited' : 'Debited'} ${formatUsd(amount)}. New balance ${formatUsd(next.availableMicros)}.`);
    page.reload();
  };

  return (
    <div className="stack">
      <p>
        <a href="#/users">← All users</a>
      </p>
      <section className="card stack" aria-labelledby="user-title" data-testid="user-detail">
        <h1 id="user-title" style={{ overflowWrap: 'anywhere' }}>
          {user.email}
        </h1>
        <dl className="details">
          <dt>Role</dt>
          <dd data-testid="user-role">{user.role}</dd>
          <dt>Account</dt>
          <dd data-testid="user-state">{user.disabled ? 'Disabled: every request is refused' : 'Active'}</dd>
          <dt>Balance · held</dt>
          <dd data-testid="detail-balance">
            {formatUsd(wallet?.availableMicros ?? '0')} · {formatUsd(wallet?.heldMicros ?? '0')}
          </dd>
          <dt>Joined</dt>
          <dd>{formatDateTime(user.createdAt)}</dd>
        </dl>
        <p>
          <a href={`#/activations/${encodeURIComponent(user.email)}`} data-testid="user-activations">
            This customer’s activations
          </a>
        </p>
        {notice && (
          <p className="notice" role="status" data-testid="user-notice">
            {notice}
          </p>
        )}
        {change.error && <ErrorMessage message={change.error} />}
        <div className="actions">
          <button type="button" className="primary" onClick={() => setOpen(open === 'credit' ? null : 'credit')} aria-expanded={open === 'credit'} data-testid="credit-open">
            Credit
          </button>
          <button type="button" onClick={() => setOpen(open === 'debit' ? null : 'debit')} aria-expanded={open === 'debit'} data-testid="debit-open">
            Debit
          </button>
          <button
            type="button"
            disabled={self || change.busy}
            title={self ? 'Admins cannot change their own role' : undefined}
            onClick={() => update({ role: user.role === 'ADMIN' ? 'CUSTOMER' : 'ADMIN' }, user.role === 'ADMIN' ? 'No longer an admin.' : 'Now an admin.')}
            data-testid="role-toggle"
          >
            {user.role === 'ADMIN' ? 'Remove admin role' : 'Make admin'}
          </button>
          <button
            type="button"
            className={user.disabled ? undefined : 'danger'}
            disabled={self || change.busy}
            onClick={() => {
              if (!user.disabled && !window.confirm(`Disable ${user.email}? They are signed out at once and refused until re-enabled.`)) return;
              void update({ disabled: !user.disabled }, user.disabled ? 'Account enabled again.' : 'Account disabled; its sessions ended.');
            }}
            data-testid="disable-toggle"
          >
            {user.disabled ? 'Enable account' : 'Disable account'}
          </button>
        </div>
        {open && <CreditForm key={open} user={user} debit={open === 'debit'} onCredited={moved(open)} onClose={() => setOpen(null)} />}
      </section>
      <section className="card stack" aria-labelledby="ledger-title">
        <h2 id="ledger-title">Ledger</h2>
        {ledger.length === 0 ? (
          <p className="muted">No entries yet.</p>
        ) : (
          <Table testId="user-ledger" columns={[{ label: 'When' }, { label: 'Entry' }, { label: 'Memo' }, { label: 'Balance', numeric: true }, { label: 'Held', numeric: true }]} cards>
            {ledger.map((e) => (
              <tr key={e.id} data-testid="ledger-row" data-kind={e.kind}>
                <td data-label="When">{formatDateTime(e.createdAt)}</td>
                <td data-label="Entry">{e.kind}</td>
                <td data-label="Memo">{e.memo || '—'}</td>
                <td data-label="Balance" className="num">
                  {formatDelta(e.availableDelta)}
                </td>
                <td data-label="Held" className="num">
                  {formatDelta(e.heldDelta)}
                </td>
              </tr>
            ))}
          </Table>
        )}
      </section>
    </div>
  );
}
