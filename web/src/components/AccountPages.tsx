import { useEffect, useId, useState, type FormEvent } from 'react';
import { describeError } from '../../../ui/api';
import { ErrorMessage, Loading, TextField } from '../../../ui/components';
import { useAction } from '../../../ui/hooks';
import { api } from '../client';

/**
 * The pages the e-mailed links open (`/verify-email?token=…`, `/reset-password?token=…`, see
 * src/auth/auth.service.ts): they work signed in or not, and lead back into the app.
 */

/** A token is consumed once: the same page rendering twice (React's dev double effects) must not send it twice. */
const verifications = new Map<string, Promise<unknown>>();

export function VerifyEmailPage({ token }: { token: string }) {
  const [state, setState] = useState<{ done: boolean; error: string | null }>({ done: false, error: null });
  useEffect(() => {
    let current = verifications.get(token);
    if (!current) {
      current = api.post('/auth/email/verify', { token });
      verifications.set(token, current);
    }
    let stale = false;
    current.then(
      () => !stale && setState({ done: true, error: null }),
      (error: unknown) => !stale && setState({ done: true, error: describeError(error) }),
    );
    return () => {
      stale = true;
    };
  }, [token]);

  return (
    <main className="auth">
      <section className="card stack" aria-labelledby="verify-title" data-testid="verify-email">
        <h1 id="verify-title">Confirm your e-mail</h1>
        {!state.done ? (
          <Loading label="Confirming…" />
        ) : state.error ? (
          <>
            <ErrorMessage message={state.error} />
            <p className="muted">Signed in, you can ask for a new link from the notice at the top of the app.</p>
          </>
        ) : (
          <p className="notice" role="status" data-testid="verify-done">
            Thank you: your e-mail address is confirmed.
          </p>
        )}
        <p>
          <a href="/" className="button primary" data-testid="continue">
            Continue to SimGate
          </a>
        </p>
      </section>
    </main>
  );
}

export function ResetPasswordPage({ token }: { token: string }) {
  const [password, setPassword] = useState('');
  const [repeat, setRepeat] = useState('');
  const [done, setDone] = useState(false);
  const { busy, error, setError, run } = useAction();
  const id = useId();

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (busy) return;
    if (password !== repeat) {
      setError('The two passwords differ. Type the same new password twice.');
      return;
    }
    await run(async () => {
      await api.post('/auth/password/reset', { token, password });
      // Every session of the account ended with the reset, this browser's too.
      api.endSession();
      setDone(true);
    });
  }

  return (
    <main className="auth">
      <form className="card stack" onSubmit={submit} aria-labelledby={`${id}-title`} data-testid="reset-password">
        <h1 id={`${id}-title`}>Choose a new password</h1>
        {done ? (
          <>
            <p className="notice" role="status" data-testid="reset-done">
              Your password is changed, and every device that was signed in has been signed out. Sign in with the new password.
            </p>
            <p>
              <a href="/" className="button primary" data-testid="continue">
                Sign in
              </a>
            </p>
          </>
        ) : (
          <>
            <TextField id={`${id}-password`} label="New password (at least 8 characters)" type="password" autoComplete="new-password" required minLength={8} value={password} onChange={setPassword} data-testid="new-password" />
            <TextField id={`${id}-repeat`} label="The same again" type="password" autoComplete="new-password" required minLength={8} value={repeat} onChange={setRepeat} data-testid="repeat-password" />
            {error && <ErrorMessage message={error} />}
            <button type="submit" className="primary" disabled={busy} data-testid="reset-submit">
              {busy ? 'Please wait…' : 'Set the new password'}
            </button>
            <p className="muted">
              <a href="/">Back to sign in</a>
            </p>
          </>
        )}
      </form>
    </main>
  );
}

/** Signed in with an unconfirmed address: say so once, at the top, with a way to get the link again. */
export function VerifyEmailNotice({ email }: { email: string }) {
  const [verified, setVerified] = useState<boolean | null>(null);
  const [sent, setSent] = useState(false);
  const { busy, error, run } = useAction();
  useEffect(() => {
    let stale = false;
    api.get<{ user: { emailVerified?: boolean } }>('/auth/me').then(
      (r) => !stale && setVerified(r.user.emailVerified !== false),
      () => undefined,
    );
    return () => {
      stale = true;
    };
  }, [email]);
  if (verified !== false) return null;
  return (
    <div className="banner banner-verify" role="status" data-testid="verify-notice">
      {sent ? (
        <span>We sent a new link to {email}. It works once.</span>
      ) : (
        <>
          <span>Please confirm your e-mail: we sent a link to {email}.</span>{' '}
          <button type="button" className="link" disabled={busy} onClick={() => void run(async () => (await api.post('/auth/email/resend'), setSent(true)))} data-testid="resend-verification">
            {busy ? 'Sending…' : 'Send it again'}
          </button>
        </>
      )}
      {error && <span className="error-text"> {error}</span>}
    </div>
  );
}
