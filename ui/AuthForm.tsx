import { useId, useState, type FormEvent } from 'react';
import type { ApiClient } from './api';
import type { AuthResponse, User } from './types';
import { ErrorMessage, TextField } from './components';
import { useAction } from './hooks';

interface Props {
  api: ApiClient;
  title: string;
  allowSignUp?: boolean;
  /** Return a message to refuse the account (e.g. not an admin); the token is then not kept. */
  check?: (user: User) => string | null;
  onSignedIn: (user: User) => void;
  /** Shown above the form, e.g. "Your session has ended". */
  notice?: string | null;
}

/** Sign in, and optionally sign up, with email and password. Used by web/ and admin/. */
export function AuthForm({ api, title, allowSignUp = false, check, onSignedIn, notice }: Props) {
  const [mode, setMode] = useState<'signin' | 'signup'>('signin');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const { busy, error, setError, run } = useAction();
  const id = useId();
  const signUp = mode === 'signup';

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (busy) return;
    await run(async () => {
      const result = await api.post<AuthResponse>(signUp ? '/auth/register' : '/auth/login', {
        email: email.trim(),
        password,
      });
      const refusal = check?.(result.user) ?? null;
      if (refusal) {
        setError(refusal);
        return;
      }
      api.startSession(result);
      onSignedIn(result.user);
    });
  }

  return (
    <main className="auth">
      <form className="card stack" onSubmit={submit} aria-labelledby={`${id}-title`} data-testid="auth-form">
        <h1 id={`${id}-title`}>{title}</h1>
        <h2 className="muted">{signUp ? 'Create an account' : 'Sign in'}</h2>
        {notice && !error && (
          <p className="notice" role="status">
            {notice}
          </p>
        )}
        <TextField
          id={`${id}-email`}
          label="Email"
          type="email"
          autoComplete="email"
          required
          value={email}
          onChange={setEmail}
          data-testid="email-input"
        />
        <TextField
          id={`${id}-password`}
          label="Password"
          type="password"
          autoComplete={signUp ? 'new-password' : 'current-password'}
          required
          value={password}
          onChange={setPassword}
          data-testid="password-input"
        />
        {error && <ErrorMessage message={error} />}
        <button type="submit" className="primary" disabled={busy} data-testid="auth-submit">
          {busy ? 'Please wait…' : signUp ? 'Create account' : 'Sign in'}
        </button>
        {allowSignUp && (
          <p className="muted">
            {signUp ? 'Already have an account? ' : 'New here? '}
            <button
              type="button"
              className="link"
              onClick={() => {
                setMode(signUp ? 'signin' : 'signup');
                setError(null);
              }}
              data-testid="auth-toggle"
            >
              {signUp ? 'Sign in' : 'Create an account'}
            </button>
          </p>
        )}
      </form>
    </main>
  );
}
