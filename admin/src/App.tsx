import { useHashRoute } from '../../ui/hooks';
import { SessionGate } from '../../ui/session';
import { TopBar } from '../../ui/TopBar';
import type { User } from '../../ui/types';
import { Activations } from './Activations';
import { ADMIN_REQUIRED, api, isAdmin } from './client';
import { Invariants } from './Invariants';
import { Payments } from './Payments';
import { Users } from './Users';

const NAV = [
  { path: 'users', label: 'Users' },
  { path: 'activations', label: 'Activations' },
  { path: 'invariants', label: 'Invariants' },
  { path: 'payments', label: 'Payments' },
];

export function App() {
  return (
    <SessionGate api={api} title="SimGate admin" check={(user) => (isAdmin(user) ? null : ADMIN_REQUIRED)}>
      {(user, signOut) => <Shell user={user} onSignOut={signOut} />}
    </SessionGate>
  );
}

function Shell({ user, onSignOut }: { user: User; onSignOut: () => void }) {
  const [page = 'users', param] = useHashRoute();

  let content;
  if (page === 'activations') content = <Activations key={param ?? ''} userId={param} />;
  else if (page === 'invariants') content = <Invariants />;
  else if (page === 'payments') content = <Payments />;
  else content = <Users />;

  return (
    <>
      <TopBar brand="SimGate admin" navLabel="Admin" nav={NAV} page={page} email={user.email} onSignOut={onSignOut} />
      <main className="page">{content}</main>
    </>
  );
}
