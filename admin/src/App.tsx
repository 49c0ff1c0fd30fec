import { lazy, Suspense } from 'react';
import { Loading } from '../../ui/components';
import { useHashRoute } from '../../ui/hooks';
import { SessionGate } from '../../ui/session';
import { TopBar } from '../../ui/TopBar';
import type { User } from '../../ui/types';
import { ActivationDetail } from './ActivationDetail';
import { Activations } from './Activations';
import { Audit } from './Audit';
import { ADMIN_REQUIRED, api, isAdmin } from './client';
import { Incidents } from './Incidents';
import { Providers } from './Providers';
import { UserDetail } from './UserDetail';
import { Payments } from './Payments';
import { Users } from './Users';

// The two chart pages load recharts with them, so the other pages stay small.
const Dashboard = lazy(() => import('./Dashboard').then((m) => ({ default: m.Dashboard })));
const Money = lazy(() => import('./Money').then((m) => ({ default: m.Money })));

/** The top bar's pages, in order; a detail page marks its list's entry as current. */
const NAV = [
  { path: 'dashboard', label: 'Dashboard' },
  { path: 'activations', label: 'Activations' },
  { path: 'users', label: 'Users' },
  { path: 'providers', label: 'Providers' },
  { path: 'money', label: 'Money' },
  { path: 'incidents', label: 'Incidents' },
  { path: 'audit', label: 'Audit' },
  { path: 'payments', label: 'Payments' },
];

const PARENT: Record<string, string> = { activation: 'activations', user: 'users', invariants: 'money' };

export function App() {
  return (
    <SessionGate api={api} title="SimGate admin" check={(user) => (isAdmin(user) ? null : ADMIN_REQUIRED)}>
      {(user, signOut) => <Shell user={user} onSignOut={signOut} />}
    </SessionGate>
  );
}

function Shell({ user, onSignOut }: { user: User; onSignOut: () => void }) {
  const [page = 'dashboard', param] = useHashRoute();

  let content;
  if (page === 'activations') content = <Activations key={param ?? ''} email={param} />;
  else if (page === 'activation' && param) content = <ActivationDetail key={param} id={param} />;
  else if (page === 'users') content = <Users />;
  else if (page === 'user' && param) content = <UserDetail key={param} id={param} me={user} />;
  else if (page === 'providers') content = <Providers />;
  else if (page === 'money' || page === 'invariants') content = <Money />;
  else if (page === 'incidents') content = <Incidents />;
  else if (page === 'audit') content = <Audit />;
  else if (page === 'payments') content = <Payments />;
  else content = <Dashboard />;

  return (
    <>
      <TopBar brand="SimGate admin" navLabel="Admin" nav={NAV} page={PARENT[page] ?? page} email={user.email} onSignOut={onSignOut} />
      <main className="page">
        <Suspense fallback={<Loading />}>{content}</Suspense>
      </main>
    </>
  );
}
