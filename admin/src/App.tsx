import { useEffect, useState } from 'react';
import { AuthForm } from '../../ui/AuthForm';
import { ErrorMessage, Loading } from '../../ui/components';
import { describeError } from '../../ui/api';
import { useHashRoute } from '../../ui/hooks';
import type { User } from '../../ui/types';
import { Activations } from './Activations';
import { ADMIN_REQUIRED, api, isAdmin } from './client';
import { Invariants } from './Invariants';
import { Users } from './Users';

const NAV = [
  { path: 'users', label: 'Users' },
  { path: 'activations', label: 'Activations' },
  { path: 'invariants', label: 'Invariants' },
];

export function App() {
  const [user, setUser] = useState<User | null>(null);
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
    [],
  );

  useEffect(() => {
    if (!api.hasSession) return;
    let stale = false;
    setChecking(true);
    setBootError(null);
    api
      .get<{ user: User }>('/auth/me')
      .then(({ user: me }) => {
        if (stale) return;
        if (isAdmin(me)) setUser(me);
        else {
          api.endSession();
          setNotice(ADMIN_REQUIRED);
        }
      })
      .catch((error: unknown) => !stale && api.hasSession && setBootError(describeError(error)))
      .finally(() => !stale && setChecking(false));
    return () => {
      stale = true;
    };
  }, [attempt]);

  if (checking) return <Loading />;
  if (bootError)
    return (
      <main className="auth">
        <ErrorMessage message={bootError} onRetry={() => setAttempt((n) => n + 1)} />
      </main>
    );
  if (!user)
    return (
      <AuthForm
        api={api}
        title="SimGate admin"
        notice={notice}
        check={(candidate) => (isAdmin(candidate) ? null : ADMIN_REQUIRED)}
        onSignedIn={(signedIn) => {
          setNotice(null);
          setUser(signedIn);
        }}
      />
    );

  return (
    <Shell
      user={user}
      onSignOut={() => {
        void api.signOut();
        setNotice(null);
        setUser(null);
      }}
    />
  );
}

function Shell({ user, onSignOut }: { user: User; onSignOut: () => void }) {
  const [page = 'users', param] = useHashRoute();

  let content;
  if (page === 'activations') content = <Activations key={param ?? ''} userId={param} />;
  else if (page === 'invariants') content = <Invariants />;
  else content = <Users />;

  return (
    <>
      <header className="topbar">
        <a className="brand" href="#/users">
          SimGate admin
        </a>
        <nav aria-label="Admin">
          {NAV.map((item) => (
            <a key={item.path} href={`#/${item.path}`} aria-current={page === item.path ? 'page' : undefined}>
              {item.label}
            </a>
          ))}
        </nav>
        <div className="account">
          <span className="muted" data-testid="user-email">
            {user.email}
          </span>
          <button type="button" className="small" onClick={onSignOut} data-testid="sign-out">
            Sign out
          </button>
        </div>
      </header>
      <main className="page">{content}</main>
    </>
  );
}
