import { useId, useState, type FormEvent } from 'react';
import { formatDateTime } from '../../../ui/format';
import { useAction, useLoad } from '../../../ui/hooks';
import { LoadedList, Table } from '../../../ui/lists';
import type { ApiKey, CreatedApiKey } from '../../../ui/types';
import { CopyButton, ErrorMessage, TextField } from '../../../ui/components';
import { api } from '../client';
import { Webhooks } from './Webhooks';

const SCOPES = [
  { scope: 'read', label: 'Read', help: 'catalog, balance and your numbers' },
  { scope: 'purchase', label: 'Purchase', help: 'buy, cancel and finish numbers (includes read)' },
] as const;

const KEY_COLUMNS = [{ label: 'Name' }, { label: 'Key' }, { label: 'Scopes' }, { label: 'Last used' }, { label: 'Actions', hidden: true }];

/**
 * Partner API keys (`/api/keys`, docs/auth.md): create one with a name and scopes — the key and
 * its request-signing secret are shown once — list them by prefix, revoke one.
 */
export function ApiKeys() {
  const keys = useLoad((signal) => api.get<{ apiKeys: ApiKey[] }>('/keys', { signal }).then((r) => r.apiKeys), []);
  const [created, setCreated] = useState<CreatedApiKey | null>(null);

  return (
    <div className="stack">
      <CreateKey
        onCreated={(result) => {
          setCreated(result);
          keys.setData((list) => [result.apiKey, ...(list ?? [])]);
        }}
      />
      {created && <NewKey created={created} onDone={() => setCreated(null)} />}
      <section className="card stack" aria-labelledby="keys-title" aria-busy={keys.loading}>
        <h2 id="keys-title">Your keys</h2>
        <LoadedList list={keys} empty="No API keys yet." keepRowsOnError>
          {(rows) => (
            <Table testId="api-keys" columns={KEY_COLUMNS}>
              {rows.map((key) => (
                <KeyRow key={key.id} apiKey={key} onRevoked={(updated) => keys.setData((list) => list?.map((k) => (k.id === updated.id ? updated : k)))} />
              ))}
            </Table>
          )}
        </LoadedList>
      </section>
      <Webhooks />
    </div>
  );
}

function CreateKey({ onCreated }: { onCreated: (created: CreatedApiKey) => void }) {
  const id = useId();
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<string[]>(['read']);
  const { busy, error, setError, run } = useAction();

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (busy) return;
    if (scopes.length === 0) {
      setError('Pick at least one scope.');
      return;
    }
    await run(async () => {
      onCreated(await api.post<CreatedApiKey>('/keys', { name: name.trim(), scopes }));
      setName('');
    });
  }

  return (
    <section className="card stack" aria-labelledby={`${id}-title`}>
      <h1 id={`${id}-title`}>API keys</h1>
      <p className="muted">
        Programs use a key to call the partner API (<code>/api/v1</code>). Buying and cancelling requests must also be signed
        with the key&apos;s signing secret.
      </p>
      <form className="stack" onSubmit={submit} data-testid="create-key-form">
        <TextField
          id={`${id}-name`}
          label="Key name"
          required
          maxLength={100}
          value={name}
          onChange={setName}
          placeholder="e.g. my-bot"
          data-testid="key-name"
        />
        <fieldset className="scopes">
          <legend>Scopes</legend>
          {SCOPES.map(({ scope, label, help }) => (
            <label key={scope} className="check">
              <input
                type="checkbox"
                checked={scopes.includes(scope)}
                onChange={(e) => setScopes((current) => (e.target.checked ? [...current, scope] : current.filter((s) => s !== scope)))}
                data-testid={`scope-${scope}`}
              />
              <span>
                {label} <span className="muted small-text">— {help}</span>
              </span>
            </label>
          ))}
        </fieldset>
        {error && <ErrorMessage message={error} />}
        <button type="submit" className="primary" disabled={busy} data-testid="create-key">
          {busy ? 'Creating…' : 'Create key'}
        </button>
      </form>
    </section>
  );
}

function NewKey({ created, onDone }: { created: CreatedApiKey; onDone: () => void }) {
  return (
    <section className="card stack secret-card" aria-labelledby="new-key-title" data-testid="new-key">
      <h2 id="new-key-title">Key “{created.apiKey.name}” created</h2>
      <p className="notice" role="status">
        Copy both values now: they are shown only once. If you lose them, revoke the key and create a new one.
      </p>
      <div className="secret">
        <span className="secret-label">API key</span>
        <code data-testid="new-key-value">{created.key}</code>
        <CopyButton text={created.key} label="API key" testId="copy-key" />
      </div>
      <div className="secret">
        <span className="secret-label">Signing secret</span>
        <code data-testid="new-key-secret">{created.signingSecret}</code>
        <CopyButton text={created.signingSecret} label="signing secret" testId="copy-secret" />
      </div>
      <button type="button" onClick={onDone} data-testid="key-saved">
        I have saved them
      </button>
    </section>
  );
}

function KeyRow({ apiKey, onRevoked }: { apiKey: ApiKey; onRevoked: (key: ApiKey) => void }) {
  const [confirming, setConfirming] = useState(false);
  const { busy, error, run } = useAction();

  async function revoke() {
    await run(async () => onRevoked((await api.delete<{ apiKey: ApiKey }>(`/keys/${encodeURIComponent(apiKey.id)}`)).apiKey));
    setConfirming(false);
  }

  return (
    <tr data-testid="api-key-row" data-prefix={apiKey.prefix} data-revoked={apiKey.revokedAt ? 'true' : 'false'}>
      <td>{apiKey.name}</td>
      <td>
        <code>sg_{apiKey.prefix}_…</code>
      </td>
      <td>{apiKey.scopes.join(', ')}</td>
      <td>{apiKey.lastUsedAt ? formatDateTime(apiKey.lastUsedAt) : 'never'}</td>
      <td className="num">
        {apiKey.revokedAt ? (
          <span className="muted">Revoked {formatDateTime(apiKey.revokedAt)}</span>
        ) : confirming ? (
          <span className="row">
            <button type="button" className="small danger" disabled={busy} onClick={() => void revoke()} data-testid="confirm-revoke">
              {busy ? 'Revoking…' : `Revoke ${apiKey.name}`}
            </button>
            <button type="button" className="small" disabled={busy} onClick={() => setConfirming(false)}>
              Keep
            </button>
          </span>
        ) : (
          <button type="button" className="small danger" onClick={() => setConfirming(true)} aria-label={`Revoke key ${apiKey.name}`} data-testid="revoke">
            Revoke
          </button>
        )}
        {error && <ErrorMessage message={error} />}
      </td>
    </tr>
  );
}
