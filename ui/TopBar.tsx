import type { ReactNode } from 'react';

export interface NavItem {
  /** First part of the hash route: `#/<path>`. */
  path: string;
  label: string;
}

interface Props {
  brand: string;
  /** Accessible name of the navigation ("Main", "Admin"). */
  navLabel: string;
  nav: readonly NavItem[];
  /** The current page's path: its link is marked as current. */
  page: string;
  email: string;
  onSignOut: () => void;
  /** Shown before the email, e.g. the balance. */
  children?: ReactNode;
}

/** Brand, page links, the signed-in account and Sign out; the brand links to the first page. */
export function TopBar({ brand, navLabel, nav, page, email, onSignOut, children }: Props) {
  return (
    <header className="topbar">
      <a className="brand" href={`#/${nav[0]?.path ?? ''}`}>
        {brand}
      </a>
      <nav aria-label={navLabel}>
        {nav.map((item) => (
          <a key={item.path} href={`#/${item.path}`} aria-current={page === item.path ? 'page' : undefined}>
            {item.label}
          </a>
        ))}
      </nav>
      <div className="account">
        {children}
        {/* A phone's top bar has room for what comes before the email or for the email, not both. */}
        <span className={children ? 'muted email' : 'muted'} data-testid="user-email">
          {email}
        </span>
        <button type="button" className="small" onClick={onSignOut} data-testid="sign-out">
          Sign out
        </button>
      </div>
    </header>
  );
}
