import { useId, useRef, useState } from 'react';
import { ApiError, describeError, isOutcomeUnknown, newIdempotencyKey } from '../../../ui/api';
import { countryName } from '../../../ui/format';
import { navigate, useDebounced, useLoad } from '../../../ui/hooks';
import { formatUsd } from '../../../ui/money';
import type { Activation, CountryHit, Offer, ServiceHit } from '../../../ui/types';
import { Empty, ErrorMessage, Loading, TextField } from '../../../ui/components';
import { api, balance } from '../client';
import { cheapestFirst, deliveryLabel, missingMicros, offerOf, pinFavourites, stockLabel, topUpHref } from '../lib/catalog';
import { toggle, useFavourites } from '../lib/favourites';

const SEARCH_LIMIT = 10;
/** How many countries a service result lists before "all countries". */
const COUNTRIES_SHOWN = 5;

interface SearchResult {
  services: ServiceHit[];
  countries: CountryHit[];
}

/**
 * Find and buy. One box searches services and countries at once (`GET /api/catalog/search`:
 * typos, aliases and dialling codes forgiven), results follow the typing; each service lists its
 * cheapest countries with price and stock and a one-click Buy. Favourite services are pinned on
 * top. `service` (from #/buy/<code>) shows every country of one service.
 */
export function BuyPage({ service }: { service?: string }) {
  const [query, setQuery] = useState('');
  const [country, setCountry] = useState<CountryHit | null>(null);
  const q = useDebounced(query.trim(), 150);
  const id = useId();
  const purchase = usePurchase();

  return (
    <div className="stack">
      <section className="card stack" aria-labelledby={`${id}-title`} role="search">
        <h1 id={`${id}-title`}>Buy a number</h1>
        <TextField
          id={`${id}-q`}
          label="Search services and countries"
          type="search"
          placeholder="Telegram, WhatsApp, England, +44…"
          autoComplete="off"
          spellCheck={false}
          aria-describedby={`${id}-hint`}
          value={query}
          onChange={(value) => {
            setQuery(value);
            if (service) navigate('/buy');
          }}
          data-testid="service-search"
        />
        <p id={`${id}-hint`} className="muted small-text">
          Typos are fine. Prices are per number; you pay only when an SMS arrives.
        </p>
        {country && (
          <p className="row">
            <span className="chip" data-testid="country-filter">
              Showing prices in {country.name}
            </span>
            <button type="button" className="small" onClick={() => setCountry(null)} data-testid="clear-country">
              Any country
            </button>
          </p>
        )}
      </section>

      {service ? (
        <AllCountries service={service} purchase={purchase} />
      ) : (
        <Results
          q={q}
          country={country}
          onCountry={(picked) => {
            // The box held the country's name: clear it, so the list shows services priced there.
            setCountry(picked);
            setQuery('');
          }}
          purchase={purchase}
        />
      )}
    </div>
  );
}

/** Why the last purchase failed, shown next to the Buy button that was pressed. */
export interface PurchaseError {
  /** `<service>:<country>` of the offer. */
  which: string;
  message: string;
  /** INSUFFICIENT_FUNDS: what a top-up must add (micro-dollars, whole cents). */
  missingMicros: bigint | null;
  insufficientFunds: boolean;
}

interface Purchase {
  /** Bumped after a refused purchase: prices or stock may have moved, lists reload. */
  stale: number;
  buying: string | null;
  error: PurchaseError | null;
  buy: (offer: Offer) => Promise<void>;
}

/**
 * One purchase at a time; a purchase whose outcome is unknown (network error, 5xx) is retried with
 * the same Idempotency-Key, so the server returns the first purchase instead of buying twice.
 */
function usePurchase(): Purchase {
  const [buying, setBuying] = useState<string | null>(null);
  const [error, setError] = useState<PurchaseError | null>(null);
  const [stale, setStale] = useState(0);
  const inFlight = useRef(false);
  const unsettled = useRef<{ offer: string; key: string } | null>(null);

  async function buy(offer: Offer) {
    if (inFlight.current) return;
    inFlight.current = true;
    const which = `${offer.serviceCode}:${offer.countryIso}:${offer.priceMicros}`;
    const key = unsettled.current?.offer === which ? unsettled.current.key : newIdempotencyKey();
    unsettled.current = { offer: which, key };
    const where = `${offer.serviceCode}:${offer.countryIso}`;
    setBuying(where);
    setError(null);
    try {
      const { activation } = await api.post<{ activation: Activation }>(
        '/numbers',
        { service: offer.serviceCode, country: offer.countryIso, maxPriceMicros: offer.priceMicros },
        { idempotencyKey: key },
      );
      unsettled.current = null;
      balance.refreshSoon(0);
      navigate(`/numbers/${encodeURIComponent(activation.id)}`);
    } catch (err) {
      const insufficientFunds = err instanceof ApiError && err.code === 'INSUFFICIENT_FUNDS';
      if (!isOutcomeUnknown(err)) {
        unsettled.current = null;
        // Prices or stock may have moved; a low balance moved nothing (and the row keeps its message).
        if (!insufficientFunds) setStale((n) => n + 1);
      }
      const details = err instanceof ApiError ? err.details : null;
      const required = typeof details?.requiredMicros === 'string' ? details.requiredMicros : offer.priceMicros;
      // The server's figure is the one it judged by; the top bar's may be a moment old.
      const available = typeof details?.availableMicros === 'string' ? details.availableMicros : balance.current?.availableMicros;
      setError({
        which: where,
        message: insufficientFunds ? 'Your balance is too low for this number.' : describeError(err),
        missingMicros: insufficientFunds ? missingMicros(required, available) : null,
        insufficientFunds,
      });
      if (insufficientFunds) void balance.refresh();
    } finally {
      inFlight.current = false;
      setBuying(null);
    }
  }
  return { stale, buying, error, buy };
}

/** Favourites' own results, so they are pinned even when the search does not list them. */
function useFavouriteHits(favourites: string[]) {
  const key = favourites.join(',');
  return useLoad(
    async (signal) => {
      if (favourites.length === 0) return [] as ServiceHit[];
      const hits = await Promise.all(
        favourites.slice(0, 12).map((code) =>
          api
            .get<{ services: ServiceHit[] }>('/catalog/services', { query: { q: code, limit: 5 }, signal })
            .then((r) => r.services.find((s) => s.code === code) ?? null, () => null),
        ),
      );
      return hits.filter((h): h is ServiceHit => h != null);
    },
    [key],
  );
}

function Results({ q, country, onCountry, purchase }: { q: string; country: CountryHit | null; onCountry: (c: CountryHit) => void; purchase: Purchase }) {
  const favourites = useFavourites();
  // An empty box shows what people buy (Telegram, WhatsApp…), not merely what is cheapest.
  const results = useLoad(
    (signal) =>
      q === ''
        ? api.get<{ services: ServiceHit[] }>('/catalog/popular', { query: { limit: SEARCH_LIMIT }, signal }).then((r) => ({ services: r.services, countries: [] }))
        : api.get<SearchResult>('/catalog/search', { query: { q, limit: SEARCH_LIMIT }, signal }),
    [q, purchase.stale],
  );
  const favouriteHits = useFavouriteHits(favourites);

  if (results.error && !results.data) return <ErrorMessage message={describeError(results.error)} onRetry={results.reload} />;
  if (!results.data) return <Loading label="Searching…" />;

  const searched = results.data.services;
  // Empty box: favourites first, then what sells. A query: its matches, favourites among them on top.
  const pinned = q === '' ? (favouriteHits.data ?? []) : [];
  const pinnedCodes = new Set(pinned.map((s) => s.code));
  const services = [...pinned, ...pinFavourites(searched.filter((s) => !pinnedCodes.has(s.code)), favourites)];
  const countries = q === '' ? [] : results.data.countries;

  return (
    <>
      <section className="card stack" aria-labelledby="services-title" aria-busy={results.loading}>
        <div className="row">
          <h2 id="services-title" className="grow">
            {q === '' ? 'Popular services' : `Services matching “${q}”`}
          </h2>
          {results.loading && (
            <span className="muted small-text" role="status">
              Searching…
            </span>
          )}
        </div>
        {results.error != null && <ErrorMessage message={describeError(results.error)} onRetry={results.reload} />}
        {services.length === 0 ? (
          q === '' ? (
            <Empty>Nothing is on sale right now. Try again in a few minutes.</Empty>
          ) : (
            <Empty>No service matches “{q}”. Check the spelling or try another name.</Empty>
          )
        ) : (
          <ul className="results" data-testid="service-results">
            {services.map((s) => (
              <ServiceResult key={s.code} service={s} favourite={favourites.includes(s.code)} country={country} purchase={purchase} />
            ))}
          </ul>
        )}
      </section>

      {countries.length > 0 && (
        <section className="card stack" aria-labelledby="countries-title">
          <h2 id="countries-title">Countries matching “{q}”</h2>
          <ul className="rows" data-testid="country-results">
            {countries.map((c) => (
              <li key={c.iso2} className="row" data-testid="country-result" data-country={c.iso2}>
                <span className="grow">
                  {c.name} <span className="muted">+{c.dial}</span>
                </span>
                <span className="muted">{stockLabel(c.stock)}</span>
                <span className="price">{c.bestPriceMicros != null ? `from ${formatUsd(c.bestPriceMicros)}` : ''}</span>
                <button type="button" className="small" onClick={() => onCountry(c)} aria-label={`Show prices in ${c.name}`}>
                  Prices here
                </button>
              </li>
            ))}
          </ul>
        </section>
      )}
    </>
  );
}

function FavouriteButton({ code, name, favourite }: { code: string; name: string; favourite: boolean }) {
  return (
    <button
      type="button"
      className={favourite ? 'star on' : 'star'}
      aria-pressed={favourite}
      aria-label={`Favourite ${name}`}
      title={favourite ? 'Unpin from the top' : 'Pin to the top'}
      onClick={() => toggle(code)}
      data-testid="favourite"
    >
      <span aria-hidden="true">{favourite ? '★' : '☆'}</span>
    </button>
  );
}

function ServiceResult({ service, favourite, country, purchase }: { service: ServiceHit; favourite: boolean; country: CountryHit | null; purchase: Purchase }) {
  const headingId = useId();
  return (
    <li className="result" data-testid="service-result" data-service={service.code} data-favourite={favourite || undefined}>
      <div className="result-head">
        <h3 id={headingId}>{service.name}</h3>
        <span className="muted small-text">{stockLabel(service.stock)}</span>
        <FavouriteButton code={service.code} name={service.name} favourite={favourite} />
      </div>
      {country ? (
        <CountryOffer service={service} country={country} purchase={purchase} />
      ) : service.topCountries.length === 0 ? (
        <p className="muted small-text">No numbers right now.</p>
      ) : (
        <OfferRows offers={cheapestFirst(service.topCountries).slice(0, COUNTRIES_SHOWN).map((c) => offerOf(service, c))} purchase={purchase} labelledBy={headingId} />
      )}
      <a className="small-link" href={`#/buy/${encodeURIComponent(service.code)}`}>
        All countries for {service.name}
      </a>
    </li>
  );
}

/** With a country picked: this service's price there. */
function CountryOffer({ service, country, purchase }: { service: ServiceHit; country: CountryHit; purchase: Purchase }) {
  const known = service.topCountries.find((c) => c.iso2 === country.iso2);
  const offers = useLoad(
    (signal) =>
      known
        ? Promise.resolve([offerOf(service, known)])
        : api.get<{ offers: Offer[] }>('/catalog/offers', { query: { service: service.code, country: country.iso2 }, signal }).then((r) => r.offers),
    [service.code, country.iso2, purchase.stale],
  );
  if (offers.error) return <ErrorMessage message={describeError(offers.error)} onRetry={offers.reload} />;
  if (!offers.data) return <Loading label="Loading price…" />;
  if (offers.data.length === 0) return <p className="muted small-text">Not sold in {country.name} right now.</p>;
  return <OfferRows offers={offers.data} purchase={purchase} />;
}

function OfferRows({ offers, purchase, labelledBy }: { offers: Offer[]; purchase: Purchase; labelledBy?: string }) {
  return (
    <ul className="rows offers" aria-labelledby={labelledBy} data-testid="offers">
      {offers.map((offer) => {
        const which = `${offer.serviceCode}:${offer.countryIso}`;
        const delivery = deliveryLabel(offer.delivery);
        const error = purchase.error?.which === which ? purchase.error : null;
        return (
          <li key={which} className="offer" data-testid="offer-row" data-country={offer.countryIso}>
            <span className="offer-where">
              {offer.countryName || countryName(offer.countryIso)} <span className="muted small-text">{offer.countryIso}</span>
              <span className="offer-stock muted small-text">{stockLabel(offer.stock)}</span>
              {delivery && (
                <span className="offer-delivery small-text" data-testid="offer-delivery" title={delivery.detail}>
                  {delivery.text} <span className="muted">({delivery.detail})</span>
                </span>
              )}
            </span>
            <span className="price" data-testid="offer-price">
              {formatUsd(offer.priceMicros)}
            </span>
            <button
              type="button"
              className="primary small"
              disabled={purchase.buying != null || offer.stock <= 0}
              onClick={() => void purchase.buy(offer)}
              aria-label={`Buy a ${offer.serviceName} number in ${offer.countryName} for ${formatUsd(offer.priceMicros)}`}
              data-testid="buy-button"
            >
              {purchase.buying === which ? 'Buying…' : 'Buy'}
            </button>
            {error && <OfferError error={error} />}
          </li>
        );
      })}
    </ul>
  );
}

/** A refused purchase, under the Buy button that was pressed; a low balance links to the top-up with what is missing. */
function OfferError({ error }: { error: PurchaseError }) {
  return (
    <div className="error offer-error" role="alert" data-testid="purchase-error" data-code={error.insufficientFunds ? 'INSUFFICIENT_FUNDS' : undefined}>
      <span>{error.message}</span>
      {error.insufficientFunds && (
        <a className="button primary small" href={topUpHref(error.missingMicros)} data-testid="top-up-link">
          {error.missingMicros != null ? `Top up ${formatUsd(error.missingMicros)}` : 'Top up'}
        </a>
      )}
    </div>
  );
}

/** Every country selling one service, cheapest first. */
function AllCountries({ service, purchase }: { service: string; purchase: Purchase }) {
  const offers = useLoad(
    (signal) => api.get<{ offers: Offer[] }>('/catalog/offers', { query: { service }, signal }).then((r) => cheapestFirst(r.offers)),
    [service, purchase.stale],
  );
  const favourite = useFavourites().includes(service);
  // Nothing on sale: the name still comes from the catalog, not from the address bar.
  const soldOut = offers.data?.length === 0;
  const named = useLoad(
    (signal) =>
      soldOut
        ? api.get<{ services: ServiceHit[] }>('/catalog/services', { query: { q: service, limit: 5 }, signal }).then((r) => r.services.find((s) => s.code === service)?.name ?? null)
        : Promise.resolve(null),
    [service, soldOut],
  );
  const name = offers.data?.[0]?.serviceName ?? named.data ?? (offers.data && !named.loading ? service : '…');

  return (
    <section className="card stack" aria-labelledby="offers-title" aria-busy={offers.loading}>
      <div className="row">
        <h2 id="offers-title" className="grow">
          {name}: choose a country
        </h2>
        <FavouriteButton code={service} name={name} favourite={favourite} />
        <a href="#/buy" className="small-link">
          All services
        </a>
      </div>
      {offers.error ? (
        <ErrorMessage message={describeError(offers.error)} onRetry={offers.reload} />
      ) : !offers.data ? (
        <Loading label="Loading prices…" />
      ) : offers.data.length === 0 ? (
        <Empty>No country sells {name} numbers right now. Try again later or pick another service.</Empty>
      ) : (
        <OfferRows offers={offers.data} purchase={purchase} labelledBy="offers-title" />
      )}
    </section>
  );
}
