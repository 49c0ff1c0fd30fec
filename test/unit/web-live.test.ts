import { createElement, type ComponentType } from 'react';
import { renderToString } from 'react-dom/server';
import { liveBanner, liveLabel, reconnectDelay, type LiveStatus } from '../../web/src/lib/live-status';

/** The live stream's indicators: banner and pill text, and the reconnect backoff. */
interface Props {
  status: LiveStatus;
  online: boolean;
  everOpened: boolean;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { LiveBannerView, LivePill } = require('../../web/src/components/LiveNotice') as {
  LiveBannerView: ComponentType<Props>;
  LivePill: ComponentType<Props>;
};
const render = (component: ComponentType<Props>, props: Props) => renderToString(createElement(component, props));

describe('live stream indicators', () => {
  it('stays quiet while open or on the very first connect', () => {
    expect(liveBanner('open', true)).toBeNull();
    expect(liveBanner('connecting', true, false)).toBeNull();
    expect(render(LiveBannerView, { status: 'open', online: true, everOpened: true })).not.toMatch(/data-testid/);
  });

  it('says reconnecting when the stream dropped, and offline first when the browser is offline', () => {
    expect(liveBanner('down', true)?.tone).toBe('reconnecting');
    expect(liveBanner('connecting', true, true)?.tone).toBe('reconnecting');
    expect(liveBanner('down', false)?.tone).toBe('offline');
    expect(liveBanner('open', false)?.tone).toBe('offline');
    const html = render(LiveBannerView, { status: 'down', online: true, everOpened: true });
    expect(html).toMatch(/role="status"/);
    expect(html).toMatch(/data-testid="reconnecting"[^>]*>Live updates reconnecting/);
    expect(render(LiveBannerView, { status: 'down', online: false, everOpened: true })).toMatch(/data-testid="offline"[^>]*>You are offline/);
  });

  it('labels the pill on a live activation', () => {
    expect(liveLabel('open', true)).toBe('Live');
    expect(liveLabel('connecting', true, false)).toBe('Connecting…');
    expect(liveLabel('down', true)).toBe('Reconnecting…');
    expect(liveLabel('open', false)).toBe('Offline');
    expect(render(LivePill, { status: 'open', online: true, everOpened: true })).toMatch(/data-live="open"/);
    expect(render(LivePill, { status: 'down', online: true, everOpened: true })).toMatch(/data-live="down"/);
    expect(render(LivePill, { status: 'open', online: false, everOpened: true })).toMatch(/data-live="offline"[^>]*>.*Offline/);
  });

  it('backs off 1 s, 2 s, 4 s … up to 30 s', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 10].map(reconnectDelay)).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
    expect(reconnectDelay(-1)).toBe(1000);
  });
});
