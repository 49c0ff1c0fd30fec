import { useEffect, useRef, useState } from 'react';
import { describeError } from '../../ui/api';
import { useHashRoute } from '../../ui/hooks';
import { formatUsd } from '../../ui/money';
import type { User } from '../../ui/types';
import { AuthForm } from '../../ui/AuthForm';
import { ErrorMessage, Loading } from '../../ui/components';
import { api, balance, feed, useBalance, useOnline } from './client';
import { useLiveState } from './lib/live';
import { ActivationCard } from './components/ActivationCard';
import { ApiKeys } from './components/ApiKeys';
import { BuyPage } from './components/BuyPage';
import { History } from './components/History';
import { LiveBannerView } from './components/LiveNotice';
import { WalletView } from './components/WalletView';

const NAV = [
  { path: 'buy', label: 'Buy a number' },
  { path: 'numbers', label: 'My numbers' },
  { path: 'wallet', label: 'Wallet' },
  { path: 'keys', label: 'API keys' },
];

export function App() {
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
    [],
  );

  useEffect(() => {
    if (!api.hasSession) return;
    let stale = false;
    setChecking(true);
    setBootError(null);
    // An expired access token is refreshed inside the client: no sign-in screen flashes by.
    api
      .get<{ user: User }>('/auth/me')
      .then((result) => !stale && setUser(result.user))
      .catch((error: unknown) => !stale && api.hasSession && setBootError(describeError(error)))
      .finally(() => !stale && setChecking(false));
    return () => {
      stale = true;
    };
  }, [attempt]);

  // Live activation updates and the balance while signed in.
  useEffect(() => {
    if (!user) return;
    feed.start();
    void balance.refresh();
    // Money may have moved while the tab was hidden (a top-up, a partner's purchase).
    const onVisible = () => document.visibilityState === 'visible' && balance.refreshSoon();
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      document.removeEventListener('visibilitychange', onVisible);
      feed.stop();
      balance.set(null);
    };
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
        void api.signOut();
        setNotice(null);
        setUser(null);
      }}
    />
  );
}

function Shell({ user, onSignOut }: { user: User; onSignOut: () => void }) {
  const [page = 'buy', param] = useHashRoute();
  const live = useLiveState(feed);
  const online = useOnline();
  const wallet = useBalance();
  const main = useRef<HTMLElement>(null);
  const firstRender = useRef(true);

  // After navigating, keyboard and screen-reader users continue at the new page, not the old link.
  const route = `${page}/${param ?? ''}`;
  useEffect(() => {
    if (firstRender.current) {
      firstRender.current = false;
      return;
    }
    main.current?.focus({ preventScroll: false });
    balance.refreshSoon();
  }, [route]);

  let content;
  if (page === 'numbers' && param) content = <ActivationCard key={param} id={param} />;
  else if (page === 'numbers') content = <History />;
  else if (page === 'wallet') content = <WalletView />;
  else if (page === 'keys') content = <ApiKeys />;
  else content = <BuyPage service={param} />;

  return (
    <>
      <a className="skip-link" href="#main" onClick={(e) => (e.preventDefault(), main.current?.focus())}>
        Skip to content
      </a>
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
          <a href="#/wallet" className="balance" data-testid="header-balance" aria-label={wallet ? `Balance ${formatUsd(wallet.availableMicros)}` : 'Balance'}>
            {wallet ? formatUsd(wallet.availableMicros) : '…'}
          </a>
          <span className="muted email" data-testid="user-email">
            {user.email}
          </span>
          <button type="button" className="small" onClick={onSignOut} data-testid="sign-out">
            Sign out
          </button>
        </div>
      </header>
      <LiveBannerView status={live.status} online={online} everOpened={live.everOpened} />
      <main className="page" id="main" tabIndex={-1} ref={main}>
        {content}
      </main>
    </>
  );
}
