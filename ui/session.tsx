import { useEffect, useState, type ReactNode } from 'react';
import { describeError, type ApiClient } from './api';
import { AuthForm } from './AuthForm';
import { ErrorMessage, Loading } from './components';
import type { User } from './types';

interface Props {
  api: ApiClient;
  /** Heading of the sign-in form. */
  title: string;
  allowSignUp?: boolean;
  /** Offer "Forgot your password?". */
  allowReset?: boolean;
  /** Shown next to the sign-in form (the customer app's landing: what the product is). */
  intro?: ReactNode;
  /**
   * Return a message to refuse the account (the admin panel takes admins only): checked at sign-in
   * and for a session found in storage, which is then forgotten.
   */
  check?: (user: User) => string | null;
  /** The signed-in app; `signOut` ends the session and goes back to the sign-in form. */
  children: (user: User, signOut: () => void) => ReactNode;
}

/** The session bootstrap both apps share: resume a stored session, else sign in; back to sign-in when the session ends. */
export function SessionGate({ api, title, allowSignUp, allowReset, intro, check, children }: Props) {
  const [user, setUser] = useState<User | null>(null);
  // A stored session (access token, or the CSRF token of a refresh cookie): find out whose it is.
  const [checking, setChecking] = useState(() => api.hasSession);
  const [bootError, setBootError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [attempt, setAttempt] = useState(0);

  useEffect(
    () =>
      api.onUnauthorized(() => {
        setUser(null);
        setNotice('Your session has ended. Please sign in again.');
      }),
    [api],
  );

  useEffect(() => {
    if (!api.hasSession) return;
    let stale = false;
    setChecking(true);
    setBootError(null);
    // An expired access token is refreshed inside the client: no sign-in screen flashes by.
    api
      .get<{ user: User }>('/auth/me')
      .then(({ user: me }) => {
        if (stale) return;
        const refusal = check?.(me) ?? null;
        if (!refusal) setUser(me);
        else {
          api.endSession();
          setNotice(refusal);
        }
      })
      .catch((error: unknown) => !stale && api.hasSession && setBootError(describeError(error)))
      .finally(() => !stale && setChecking(false));
    return () => {
      stale = true;
    };
    // Not on `check`: a new function each render must not ask the server again.
  }, [api, attempt]);

  if (checking) return <Loading />;
  if (bootError)
    return (
      <main className="auth">
        <ErrorMessage message={bootError} onRetry={() => setAttempt((n) => n + 1)} />
      </main>
    );
  if (!user) {
    const form = (
      <AuthForm
        api={api}
        title={title}
        allowSignUp={allowSignUp}
        allowReset={allowReset}
        notice={notice}
        check={check}
        onSignedIn={(signedIn) => {
          setNotice(null);
          setUser(signedIn);
        }}
      />
    );
    return intro ? (
      <div className="landing">
        {intro}
        {form}
      </div>
    ) : (
      form
    );
  }

  return children(user, () => {
    void api.signOut();
    setNotice(null);
    setUser(null);
  });
}
