import { liveBanner, liveLabel, type LiveStatus } from '../lib/live-status';

/** The page-wide banner while the live stream is down or the browser is offline. Presentational. */
export function LiveBannerView({ status, online, everOpened }: { status: LiveStatus; online: boolean; everOpened: boolean }) {
  const banner = liveBanner(status, online, everOpened);
  // The live region stays in the page so screen readers announce the change when text appears.
  return (
    <div role="status" aria-live="polite" className="banner-slot">
      {banner && (
        <p className={`banner banner-${banner.tone}`} data-testid={banner.tone === 'offline' ? 'offline' : 'reconnecting'}>
          {banner.text}
        </p>
      )}
    </div>
  );
}

/** "Live" / "Reconnecting…" / "Offline" pill on a live activation. */
export function LivePill({ status, online, everOpened }: { status: LiveStatus; online: boolean; everOpened: boolean }) {
  const label = liveLabel(status, online, everOpened);
  const tone = !online ? 'offline' : status === 'open' ? 'open' : 'down';
  return (
    <span className={`live-pill live-${tone}`} data-testid="live-indicator" data-live={tone}>
      <span aria-hidden="true" className="dot" />
      {label}
    </span>
  );
}
