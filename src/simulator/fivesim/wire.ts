import type { Catalog, Offer } from '../catalog';
import { amountNumber, formatAmount } from '../amount';
import type { FivesimOrder, FivesimTenant } from './tenant';

/**
 * The JSON shapes of 5sim v1 (spec 1.2–1.5), rendered from the tenant's state. Everything a
 * strict client checks is decided here: `+` on phones, integer ids, `sms` always present,
 * RFC 3339 timestamps with sub-millisecond fractions, `rate` absent where unknown.
 */

/** RFC 3339 in UTC with the fraction trimmed as Go prints it (`…00.000417Z`, `…00Z`). */
export function rfc3339(ms: number, micros = 0): string {
  const iso = new Date(ms).toISOString();
  const fraction = `${iso.slice(20, 23)}${String(micros).padStart(3, '0')}`.replace(/0+$/, '');
  return `${iso.slice(0, 19)}${fraction ? `.${fraction}` : ''}Z`;
}

/**
 * Spec 1.3. `sms` is `null` in the buy reply (nothing can have arrived) and a list everywhere
 * else — both forms occur on the real service, so clients must take either.
 */
export function orderJson(catalog: Catalog, order: FivesimOrder, options: { smsNull?: boolean; stringId?: boolean } = {}) {
  return {
    id: options.stringId ? String(order.id) : order.id,
    phone: `+${order.phone}`,
    operator: order.operator,
    product: order.service,
    price: amountNumber(order.costMicros),
    status: order.state,
    expires: rfc3339(order.expiresAt, order.micros),
    created_at: rfc3339(order.createdAt, order.micros),
    country: order.country,
    forwarding: order.forwarding,
    forwarding_number: order.forwardingNumber,
    sms: options.smsNull && order.sms.length === 0 ? null : order.sms.map((_sms, index) => smsJson(catalog, order, index)),
  };
}

/** One `sms[]` item: `date` is when the phone got it (whole seconds), `created_at` when 5sim stored it. */
export function smsJson(catalog: Catalog, order: FivesimOrder, index: number) {
  const sms = order.sms[index];
  return {
    created_at: rfc3339(sms.receivedAt, (order.micros * (index + 7)) % 1000),
    date: rfc3339(Math.floor(sms.receivedAt / 1000) * 1000 - 1000),
    sender: catalog.services.get(order.service)?.name ?? order.service,
    text: sms.text,
    code: sms.code,
  };
}

/** `/user/sms/inbox/{id}`: the inbox items add an id and the wave fields. */
export function inboxJson(catalog: Catalog, order: FivesimOrder) {
  return {
    Data: order.sms.map((_sms, index) => ({ id: order.id * 10 + index, ...smsJson(catalog, order, index), is_wave: false, wave_uuid: '' })),
    Total: order.sms.length,
  };
}

export function profileJson(tenant: FivesimTenant) {
  const orders = tenant.list();
  const summary = (order: FivesimOrder) => `${order.country}:${order.service}:${order.operator}:${order.id}:${formatAmount(order.costMicros)}`;
  const last = orders.at(-1);
  return {
    id: tenant.accountId,
    email: `${tenant.id}@simgate.test`,
    vendor: '',
    default_forwarding_number: '',
    balance: amountNumber(tenant.balanceMicros),
    rating: 96,
    default_country: { name: 'any', iso: 'any', prefix: 'any' },
    default_operator: { name: 'any' },
    frozen_balance: amountNumber(tenant.frozenMicros()),
    // Undocumented fields seen in live replies (spec 5.4); last_top_orders is a string, not a list.
    did_order: orders.length > 0,
    is_totp: false,
    last_order: last ? summary(last) : '',
    last_top_idx: 0,
    last_top_orders: `{${orders.slice(-5).reverse().map(summary).join(',')}}`,
    total_active_orders: orders.filter((order) => !tenant.isTerminal(order.state)).length,
  };
}

/** `{cost, count, rate}`; `rate` is left out where the operator's is unknown (spec 1.5: absent, not zero). */
export function priceJson(offer: Offer, looseNumbers: boolean) {
  return {
    cost: amountNumber(offer.priceMicros),
    count: looseNumbers ? String(offer.stock) : offer.stock,
    ...(offer.rate == null ? {} : { rate: offer.rate }),
  };
}

/** `/guest/countries`: iso and prefix as `{value: 1}` sets, names, then one key per operator. */
export function countriesJson(catalog: Catalog) {
  const countries: Record<string, Record<string, unknown>> = {};
  for (const country of catalog.countries.values()) {
    const entry: Record<string, unknown> = {
      iso: { [country.iso2.toLowerCase()]: 1 },
      prefix: { [`+${country.dial}`]: 1 },
      text_en: country.name,
      text_ru: country.nameRu || country.name,
    };
    for (const operator of catalog.operatorsIn(country.id)) entry[operator] = { activation: 1 };
    countries[country.id] = entry;
  }
  return countries;
}
