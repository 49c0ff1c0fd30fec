import { useLoad } from '../../../ui/hooks';
import { formatUsd } from '../../../ui/money';
import type { ServiceHit } from '../../../ui/types';
import { api } from '../client';
import { deliveryLabel } from '../lib/catalog';

/**
 * What a visitor sees before signing in: what SimGate is, how a purchase goes, and what sells
 * right now with live prices and success rates (the catalog is public), next to the sign-in form.
 */
export function Landing() {
  const popular = useLoad((signal) => api.get<{ services: ServiceHit[] }>('/catalog/popular', { query: { limit: 6 }, signal }).then((r) => r.services), []);
  return (
    <section className="landing-intro stack" aria-labelledby="landing-title" data-testid="landing">
      <h1 id="landing-title">A phone number for one verification SMS</h1>
      <p className="lead">
        Sign up to Telegram, WhatsApp, Google and two thousand other services without giving away your own number. SimGate rents you a
        temporary number in the country you choose, shows the code the moment the SMS arrives, and charges you only if it does.
      </p>
      <ol className="steps">
        <li>
          <strong>Top up your wallet</strong> — from a few cents; nothing is charged until a code arrives.
        </li>
        <li>
          <strong>Pick a service and a country</strong> — one search box, typos forgiven; every offer shows its price and how often its
          numbers got their SMS lately.
        </li>
        <li>
          <strong>Use the number, get the code</strong> — it appears here live, ready to copy. No SMS in time? The number is cancelled and
          the money goes back to your balance automatically.
        </li>
      </ol>
      {popular.data && popular.data.length > 0 && (
        <div className="stack">
          <h2>Popular right now</h2>
          <ul className="landing-popular" data-testid="landing-popular">
            {popular.data.map((s) => {
              const best = s.topCountries[0];
              const delivery = deliveryLabel(best?.delivery);
              return (
                <li key={s.code} data-service={s.code}>
                  <strong>{s.name}</strong>
                  <span className="muted small-text">
                    {s.bestPriceMicros != null ? `from ${formatUsd(s.bestPriceMicros)}` : ''}
                    {best ? ` · ${best.name}` : ''}
                    {delivery ? ` · ${delivery.text}` : ''}
                  </span>
                </li>
              );
            })}
          </ul>
        </div>
      )}
    </section>
  );
}
