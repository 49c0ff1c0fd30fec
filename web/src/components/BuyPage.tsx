import { useId, useRef, useState } from 'react';
import { api } from '../client';
import { describeError, isOutcomeUnknown, newIdempotencyKey } from '../lib/api';
import { rememberServiceNames, serviceName } from '../lib/format';
import { navigate, useDebounced, useLoad } from '../lib/hooks';
import { formatUsd, toMicros } from '../lib/money';
import type { Activation, Offer, ServiceSummary } from '../lib/types';
import { Empty, ErrorMessage, Loading } from './ui';

/** Search services while typing; `service` (from the URL, #/buy/<code>) shows that service's countries. */
export function BuyPage({ service }: { service?: string }) {
  const [query, setQuery] = useState('');
  const q = useDebounced(query.trim(), 250);
  const id = useId();

  const services = useLoad(
    (signal) =>
      api.get<{ services: ServiceSummary[] }>('/catalog/services', { query: { q, limit: 20 }, signal }).then((r) => {
        rememberServiceNames(r.services);
        return r.services;
      }),
    [q],
  );

  return (
    <div className="stack">
      <section className="card stack" aria-labelledby={`${id}-title`}>
        <h1 id={`${id}-title`}>Buy a number</h1>
        <label htmlFor={`${id}-q`}>Find a service</label>
        <input
          id={`${id}-q`}
          type="search"
          placeholder="Telegram, WhatsApp, Google…"
          autoComplete="off"
          value={query}
          onChange={(e) => {
            setQuery(e.target.value);
            if (service) navigate('/buy');
          }}
          data-testid="service-search"
        />
      </section>

      {service ? (
        <Offers service={service} />
      ) : (
        <section className="card" aria-label="Services" aria-busy={services.loading}>
          {services.error ? (
            <ErrorMessage message={describeError(services.error)} onRetry={services.reload} />
          ) : !services.data ? (
            <Loading label="Searching…" />
          ) : services.data.length === 0 ? (
            <Empty>No service matches “{q}”. Try another name.</Empty>
          ) : (
            <ul className="rows" data-testid="service-results">
              {services.data.map((s) => (
                <li key={s.code}>
                  <button
                    type="button"
                    className="row-button"
                    onClick={() => navigate(`/buy/${encodeURIComponent(s.code)}`)}
                    data-testid="service-result"
                    data-service={s.code}
                  >
                    <span className="grow">{s.name}</span>
                    <span className="muted">{s.stock > 0 ? `${s.stock.toLocaleString()} in stock` : 'Sold out'}</span>
                    <span className="price">{s.bestPriceMicros != null ? `from ${formatUsd(s.bestPriceMicros)}` : ''}</span>
                  </button>
                </li>
              ))}
            </ul>
          )}
        </section>
      )}
    </div>
  );
}

function byPrice(a: Offer, b: Offer): number {
  const pa = toMicros(a.priceMicros) ?? 0n;
  const pb = toMicros(b.priceMicros) ?? 0n;
  return pa < pb ? -1 : pa > pb ? 1 : 0;
}

function Offers({ service }: { service: string }) {
  const offers = useLoad(
    (signal) =>
      api.get<{ offers: Offer[] }>('/catalog/offers', { query: { service }, signal }).then((r) => {
        if (r.offers[0]) rememberServiceNames([{ code: service, name: r.offers[0].serviceName }]);
        return [...r.offers].sort(byPrice);
      }),
    [service],
  );
  const [buying, setBuying] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  // One purchase at a time; a purchase whose outcome is unknown (network error, 5xx) is retried
  // with the same Idempotency-Key, so the server returns the first purchase instead of buying twice.
  const inFlight = useRef(false);
  const unsettled = useRef<{ country: string; price: string; key: string } | null>(null);

  const name = offers.data?.[0]?.serviceName ?? serviceName(service);

  async function buy(offer: Offer) {
    if (inFlight.current) return;
    inFlight.current = true;
    const previous = unsettled.current;
    const key =
      previous && previous.country === offer.countryIso && previous.price === offer.priceMicros
        ? previous.key
        : newIdempotencyKey();
    unsettled.current = { country: offer.countryIso, price: offer.priceMicros, key };
    setBuying(offer.countryIso);
    setError(null);
    try {
      const { activation } = await api.post<{ activation: Activation }>(
        '/numbers',
        { service: offer.serviceCode, country: offer.countryIso, maxPriceMicros: offer.priceMicros },
        { idempotencyKey: key },
      );
      unsettled.current = null;
      navigate(`/numbers/${encodeURIComponent(activation.id)}`);
    } catch (err) {
      if (!isOutcomeUnknown(err)) unsettled.current = null;
      setError(describeError(err));
      if (!isOutcomeUnknown(err)) offers.reload(); // stock or price may have moved
    } finally {
      inFlight.current = false;
      setBuying(null);
    }
  }

  return (
    <section className="card stack" aria-labelledby="offers-title" aria-busy={offers.loading}>
      <div className="row">
        <h2 id="offers-title" className="grow">
          {name}: choose a country
        </h2>
        <a href="#/buy" className="small-link">
          All services
        </a>
      </div>
      {error && <ErrorMessage message={error} />}
      {offers.error ? (
        <ErrorMessage message={describeError(offers.error)} onRetry={offers.reload} />
      ) : !offers.data ? (
        <Loading label="Loading prices…" />
      ) : offers.data.length === 0 ? (
        <Empty>No country sells {name} numbers right now. Try again later or pick another service.</Empty>
      ) : (
        <ul className="rows" data-testid="offers">
          {offers.data.map((offer) => (
            <li key={offer.countryIso} className="row" data-testid="offer-row" data-country={offer.countryIso}>
              <span className="grow">
                {offer.countryName} <span className="muted">{offer.countryIso}</span>
              </span>
              <span className="muted">{offer.stock > 0 ? `${offer.stock.toLocaleString()} in stock` : 'Sold out'}</span>
              <span className="price" data-testid="offer-price">
                {formatUsd(offer.priceMicros)}
              </span>
              <button
                type="button"
                className="primary"
                disabled={buying != null || offer.stock <= 0}
                onClick={() => buy(offer)}
                aria-label={`Buy a ${name} number in ${offer.countryName} for ${formatUsd(offer.priceMicros)}`}
                data-testid="buy-button"
              >
                {buying === offer.countryIso ? 'Buying…' : 'Buy'}
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
