import { Fragment, useRef, useState, type FormEvent } from 'react';
import { ErrorMessage, TextField } from '../../ui/components';
import { describeError, isOutcomeUnknown, newIdempotencyKey } from '../../ui/api';
import { formatDateTime } from '../../ui/format';
import { useDebounced, useLoad } from '../../ui/hooks';
import { LoadedList, Table } from '../../ui/lists';
import { formatUsd, parseDollars } from '../../ui/money';
import type { LedgerEntry, Wallet } from '../../ui/types';
import { api } from './client';

import type { AdminUser } from './types';

const USER_COLUMNS = [
  { label: 'Email' },
  { label: 'Role' },
  { label: 'Account' },
  { label: 'Balance', numeric: true },
  { label: 'Held', numeric: true },
  { label: 'Joined' },
  { label: 'Actions', hidden: true },
];

/** Users with their balances; credit a wallet inline. */
export function Users() {
  const [query, setQuery] = useState('');
  const q = useDebounced(query.trim(), 300);
  const users = useLoad(
    (signal) => api.get<{ users: AdminUser[] }>('/admin/users', { query: { q }, signal }).then((r) => r.users),
    [q],
  );
  const [crediting, setCrediting] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  function credited(user: AdminUser, wallet: Wallet, amount: bigint) {
    users.setData((list) =>
      list?.map((u) => (u.id === user.id ? { ...u, availableMicros: wallet.availableMicros, heldMicros: wallet.heldMicros } : u)),
    );
    setCrediting(null);
    setNotice(`Credited ${formatUsd(amount)} to ${user.email}. New balance ${formatUsd(wallet.availableMicros)}.`);
  }

  return (
    <section className="card stack" aria-labelledby="users-title">
      <h1 id="users-title">Users</h1>
      <div className="filters">
        <div>
          <TextField
            id="user-search"
            label="Search by email"
            type="search"
            autoComplete="off"
            value={query}
            onChange={setQuery}
            data-testid="user-search"
          />
        </div>
      </div>
      {notice && (
        <p className="notice" role="status" data-testid="credit-notice">
          {notice}
        </p>
      )}
      <LoadedList list={users} empty={<>No users match “{q}”.</>}>
        {(rows) => (
          <Table testId="users" columns={USER_COLUMNS} cards>
            {rows.map((u) => (
              <Fragment key={u.id}>
                <tr data-testid="user-row" data-email={u.email}>
                  <td data-label="Email">
                    <a href={`#/user/${encodeURIComponent(u.id)}`} title="Wallet, ledger, roles" data-testid="user-link">
                      {u.email}
                    </a>
                  </td>
                  <td data-label="Role">{u.role}</td>
                  <td data-label="Account">{u.disabled ? 'Disabled' : 'Active'}</td>
                  <td data-label="Balance" className="num" data-testid="user-balance">
                    {formatUsd(u.availableMicros)}
                  </td>
                  <td data-label="Held" className="num">
                    {formatUsd(u.heldMicros)}
                  </td>
                  <td data-label="Joined">{formatDateTime(u.createdAt)}</td>
                  <td data-label="">
                    <button
                      type="button"
                      className="small"
                      aria-expanded={crediting === u.id}
                      onClick={() => {
                        setNotice(null);
                        setCrediting(crediting === u.id ? null : u.id);
                      }}
                      data-testid="credit-open"
                    >
                      Credit
                    </button>
                  </td>
                </tr>
                {crediting === u.id && (
                  <tr>
                    <td colSpan={USER_COLUMNS.length} data-label="">
                      <CreditForm
                        user={u}
                        onCredited={(wallet, amount) => credited(u, wallet, amount)}
                        onClose={() => setCrediting(null)}
                      />
                    </td>
                  </tr>
                )}
              </Fragment>
            ))}
          </Table>
        )}
      </LoadedList>
    </section>
  );
}

/** Credit (or, with `debit`, take money out of) a wallet, with a memo, idempotently. */
export function CreditForm({
  user,
  onCredited,
  onClose,
  debit = false,
}: {
  user: Pick<AdminUser, 'id' | 'email'>;
  onCredited: (wallet: Wallet, amount: bigint) => void;
  onClose: () => void;
  debit?: boolean;
}) {
  const verb = debit ? 'Debit' : 'Credit';
  const [amount, setAmount] = useState('');
  const [memo, setMemo] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  // One key per intended credit: kept while the outcome is unknown so a retry cannot credit twice,
  // replaced once the server has answered or the amount/memo changes.
  const pending = useRef<{ body: string; key: string } | null>(null);

  let preview: string | null = null;
  try {
    if (amount.trim()) preview = formatUsd(parseDollars(amount));
  } catch {
    preview = null;
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (busy) return;
    let micros: bigint;
    try {
      micros = parseDollars(amount);
    } catch (err) {
      setError((err as Error).message);
      return;
    }
    if (micros <= 0n) {
      setError('Enter an amount above $0.');
      return;
    }
    const body = { amountMicros: micros.toString(), memo: memo.trim() };
    const signature = JSON.stringify(body);
    if (pending.current?.body !== signature) pending.current = { body: signature, key: newIdempotencyKey() };
    setBusy(true);
    setError(null);
    try {
      const result = await api.post<{ entry: LedgerEntry; wallet: Wallet }>(
        `/admin/wallets/${encodeURIComponent(user.id)}/${debit ? 'debit' : 'credit'}`,
        body,
        { idempotencyKey: pending.current.key },
      );
      pending.current = null;
      onCredited(result.wallet, micros);
    } catch (err) {
      if (isOutcomeUnknown(err)) {
        setError(`${describeError(err)} Press ${verb} again to retry: the same request cannot be applied twice.`);
      } else {
        pending.current = null;
        setError(describeError(err));
      }
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="inline-form" onSubmit={submit} aria-label={`${verb} ${user.email}`} data-testid={debit ? 'debit-form' : 'credit-form'}>
      <div className="stack">
        <TextField
          id={`amount-${verb}-${user.id}`}
          label="Amount in dollars"
          inputMode="decimal"
          autoComplete="off"
          placeholder="10.00"
          required
          value={amount}
          onChange={setAmount}
          aria-describedby={`amount-hint-${verb}-${user.id}`}
          data-testid={debit ? 'debit-amount' : 'credit-amount'}
        />
      </div>
      <div className="stack">
        <TextField
          id={`memo-${verb}-${user.id}`}
          label={debit ? 'Reason (shown in the customer’s history)' : 'Memo (shown in the customer’s history)'}
          required
          maxLength={200}
          value={memo}
          onChange={setMemo}
          placeholder={debit ? 'Duplicate credit of 3 Dec' : 'Bank transfer #1234'}
          data-testid={debit ? 'debit-memo' : 'credit-memo'}
        />
      </div>
      <div className="row">
        <button type="submit" className={debit ? 'danger' : 'primary'} disabled={busy} data-testid={debit ? 'debit-submit' : 'credit-submit'}>
          {busy ? `${verb}ing…` : verb}
        </button>
        <button type="button" onClick={onClose} disabled={busy}>
          Close
        </button>
      </div>
      <p id={`amount-hint-${verb}-${user.id}`} className="muted small-text">
        {preview ? `${user.email} ${debit ? 'loses' : 'receives'} ${preview}.` : 'For example 25 or 2.50.'}
      </p>
      {error && <ErrorMessage message={error} />}
    </form>
  );
}
