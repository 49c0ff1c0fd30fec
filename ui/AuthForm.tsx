import { useId, useState, type FormEvent } from 'react';
import type { ApiClient } from './api';
import type { AuthResponse, User } from './types';
import { ErrorMessage, TextField } from './components';
import { useAction } from './hooks';

interface Props {
  api: ApiClient;
  title: string;
  allowSignUp?: boolean;
  /** Offer "Forgot your password?" (a reset link by e-mail). */
  allowReset?: boolean;
  /** Return a message to refuse the account (e.g. not an admin); the token is then not kept. */
  check?: (user: User) => string | null;
  onSignedIn: (user: User) => void;
  /** Shown above the form, e.g. "Your session has ended". */
  notice?: string | null;
}

/** Sign in, and optionally sign up, with email and password. Used by web/ and admin/. */
export function AuthForm({ api, title, allowSignUp = false, allowReset = false, check, onSignedIn, notice }: Props) {
  const [mode, setMode] = useState<'signin' | 'signup' | 'forgot'>('signin');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [resetSentTo, setResetSentTo] = useState<string | null>(null);
  const { busy, error, setError, run } = useAction();
  const id = useId();
  const signUp = mode === 'signup';
  const switchTo = (next: typeof mode) => {
    setMode(next);
    setError(null);
    setResetSentTo(null);
  };

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (busy) return;
    if (mode === 'forgot') {
      await run(async () => {
        await api.post('/auth/password/forgot', { email: email.trim() });
        setResetSentTo(email.trim());
      });
      return;
    }
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

  if (mode === 'forgot') {
    return (
      <main className="auth">
        <form className="card stack" onSubmit={submit} aria-labelledby={`${id}-title`} data-testid="forgot-form">
          <h1 id={`${id}-title`}>{title}</h1>
          <h2 className="muted">Reset your password</h2>
          {resetSentTo ? (
            <p className="notice" role="status" data-testid="forgot-sent">
              If an account exists for {resetSentTo}, we have sent it a link to choose a new password. The link works once; check your spam folder
              if it does not arrive in a few minutes.
            </p>
          ) : (
            <>
              <p className="muted">Enter the e-mail of your account and we will send you a link to choose a new password.</p>
              <TextField id={`${id}-email`} label="Email" type="email" autoComplete="email" required value={email} onChange={setEmail} data-testid="email-input" />
              {error && <ErrorMessage message={error} />}
              <button type="submit" className="primary" disabled={busy} data-testid="forgot-submit">
                {busy ? 'Please wait…' : 'Send the reset link'}
              </button>
            </>
          )}
          <p className="muted">
            <button type="button" className="link" onClick={() => switchTo('signin')} data-testid="back-to-sign-in">
              Back to sign in
            </button>
          </p>
        </form>
      </main>
    );
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
        {allowReset && !signUp && (
          <p className="muted">
            <button type="button" className="link" onClick={() => switchTo('forgot')} data-testid="forgot-password">
              Forgot your password?
            </button>
          </p>
        )}
        {allowSignUp && (
          <p className="muted">
            {signUp ? 'Already have an account? ' : 'New here? '}
            <button
              type="button"
              className="link"
              onClick={() => switchTo(signUp ? 'signin' : 'signup')}
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
