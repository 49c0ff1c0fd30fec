import { useEffect, useState } from 'react';
import { api, feed } from './client';
import { describeError } from './lib/api';
import { useHashRoute } from './lib/hooks';
import { useLiveStatus } from './lib/live';
import type { User } from './lib/types';
import { ActivationCard } from './components/ActivationCard';
import { AuthForm } from './components/AuthForm';
import { BuyPage } from './components/BuyPage';
import { History } from './components/History';
import { ErrorMessage, Loading } from './components/ui';
import { WalletView } from './components/WalletView';

const NAV = [
  { path: 'buy', label: 'Buy a number' },
  { path: 'numbers', label: 'My numbers' },
  { path: 'wallet', label: 'Wallet' },
];

export function App() {
  const [user, setUser] = useState<User | null>(null);
  const [checking, setChecking] = useState(() => api.token != null);
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

  // A stored token: find out who it belongs to (or that it expired).
  useEffect(() => {
    if (api.token == null) return;
    let stale = false;
    setChecking(true);
    setBootError(null);
    api
      .get<{ user: User }>('/auth/me')
      .then((result) => !stale && setUser(result.user))
      .catch((error: unknown) => !stale && api.token != null && setBootError(describeError(error)))
      .finally(() => !stale && setChecking(false));
    return () => {
      stale = true;
    };
  }, [attempt]);

  // Live activation updates while signed in.
  useEffect(() => {
    if (!user) return;
    feed.start();
    return () => feed.stop();
  }, [user]);

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
        title="SimGate"
        allowSignUp
        notice={notice}
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
        api.setToken(null);
        setNotice(null);
        setUser(null);
      }}
    />
  );
}

function Shell({ user, onSignOut }: { user: User; onSignOut: () => void }) {
  const [page = 'buy', param] = useHashRoute();
  const live = useLiveStatus(feed);

  let content;
  if (page === 'numbers' && param) content = <ActivationCard key={param} id={param} />;
  else if (page === 'numbers') content = <History />;
  else if (page === 'wallet') content = <WalletView />;
  else content = <BuyPage service={param} />;

  return (
    <>
      <header className="topbar">
        <a className="brand" href="#/buy">
          SimGate
        </a>
        <nav aria-label="Main">
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
      {live === 'down' && (
        <p className="banner" role="status" data-testid="reconnecting">
          Live updates reconnecting… Numbers you are watching are checked every few seconds meanwhile.
        </p>
      )}
      <main className="page">{content}</main>
    </>
  );
}
