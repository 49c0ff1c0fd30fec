import { useEffect, useRef } from 'react';
import { useHashRoute } from '../../ui/hooks';
import { formatUsd } from '../../ui/money';
import { SessionGate } from '../../ui/session';
import { TopBar } from '../../ui/TopBar';
import type { User } from '../../ui/types';
import { api, balance, feed, useBalance, useOnline } from './client';
import { useLiveState } from './lib/live';
import { ResetPasswordPage, VerifyEmailNotice, VerifyEmailPage } from './components/AccountPages';
import { ActivationCard } from './components/ActivationCard';
import { ApiKeys } from './components/ApiKeys';
import { BuyPage } from './components/BuyPage';
import { History } from './components/History';
import { Landing } from './components/Landing';
import { LiveBannerView } from './components/LiveNotice';
import { TopupPage } from './components/TopupPage';
import { WalletView } from './components/WalletView';

const NAV = [
  { path: 'buy', label: 'Buy a number' },
  { path: 'numbers', label: 'My numbers' },
  { path: 'wallet', label: 'Wallet' },
  { path: 'keys', label: 'API keys' },
];

export function App() {
  // The e-mailed links (src/auth/auth.service.ts) open these before any session exists.
  const token = new URLSearchParams(window.location.search).get('token') ?? '';
  if (window.location.pathname === '/verify-email') return <VerifyEmailPage token={token} />;
  if (window.location.pathname === '/reset-password') return <ResetPasswordPage token={token} />;
  return (
    <SessionGate api={api} title="SimGate" allowSignUp allowReset intro={<Landing />}>
      {(user, signOut) => <Shell user={user} onSignOut={signOut} />}
    </SessionGate>
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

  // Live activation updates and the balance while signed in.
  useEffect(() => {
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

  let content;
  if (page === 'numbers' && param) content = <ActivationCard key={param} id={param} />;
  else if (page === 'numbers') content = <History />;
  // #/wallet/topup[?missing=<micros>] and #/wallet/topup/<id>: the insufficient-funds error links here.
  else if (page === 'wallet' && param?.split('?')[0] === 'topup') content = <TopupPage key={route} topupId={window.location.hash.split('?')[0].split('/')[3]} />;
  else if (page === 'wallet') content = <WalletView />;
  else if (page === 'keys') content = <ApiKeys />;
  else content = <BuyPage service={param} />;

  return (
    <>
      <a className="skip-link" href="#main" onClick={(e) => (e.preventDefault(), main.current?.focus())}>
        Skip to content
      </a>
      <TopBar brand="SimGate" navLabel="Main" nav={NAV} page={page} email={user.email} onSignOut={onSignOut}>
        <a href="#/wallet" className="balance" data-testid="header-balance" aria-label={wallet ? `Balance ${formatUsd(wallet.availableMicros)}` : 'Balance'}>
          {wallet ? formatUsd(wallet.availableMicros) : '…'}
        </a>
      </TopBar>
      <LiveBannerView status={live.status} online={online} everOpened={live.everOpened} />
      <VerifyEmailNotice email={user.email} />
      <main className="page" id="main" tabIndex={-1} ref={main}>
        {content}
      </main>
    </>
  );
}
